import type { EntityManager } from '@mikro-orm/postgresql';
import { Patient, Role } from '../../entities';
import { keysetAfter, tableOf, uuidArray } from '../../infra/database/sql';
import { coalescedRead } from '../../infra/database/coalesced-reads';
import type { Caller } from './caller';

/** A condition for a query builder's `andWhere`: SQL with `?` placeholders and their values. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/**
 * SQL condition (for a query builder's `andWhere`) selecting the patients `user` may see, on the
 * patients table aliased `alias`; null when the user may see none (researchers).
 */
export function visiblePatientsSql(user: Caller, alias: string): SqlCondition | null {
  if (user.role === Role.ADMIN) return { sql: 'true', params: [] };
  if (user.role !== Role.CLINICIAN) return null;
  return {
    sql: `(${alias}.owner_id = ? or exists (select 1 from patient_shares s where s.patient_id = ${alias}.id and s.user_id = ?))`,
    params: [user.id, user.id],
  };
}

/**
 * As visiblePatientsSql, for rows that name their patient by a uuid column (`patientIdSql`, e.g.
 * `r.patient_id` of predictions and segmentations): their patient is one `user` may see now
 * (admin, owner, current sharee). Null when the user may see none.
 */
export function visiblePatientIdSql(user: Caller, patientIdSql: string): SqlCondition | null {
  if (user.role === Role.ADMIN) return { sql: 'true', params: [] };
  const visible = visiblePatientsSql(user, 'vp');
  if (!visible) return null;
  return {
    sql: `exists (select 1 from patients vp where vp.id = ${patientIdSql} and ${visible.sql})`,
    params: visible.params,
  };
}

/**
 * The rows of `entity` (patients, or a table with a `patient_id` column) among `ids` whose patient
 * `user` may see, in one statement; none without a statement when the user may see no patient.
 * `ids` must be uuids.
 */
export async function findVisible<T extends object>(
  em: EntityManager,
  user: Caller,
  entity: new () => T,
  ids: readonly string[],
): Promise<T[]> {
  const visible =
    entity === (Patient as unknown) ? visiblePatientsSql(user, 't') : visiblePatientIdSql(user, 't.patient_id');
  if (!visible || ids.length === 0) return [];
  // A plain statement mapped to entities: every request that touches patient data passes here, and
  // the query builder cost several times the statement itself. Coalesced with the request's other reads of the tick.
  const rows = await coalescedRead(em, {
    sql: `select t.* from "${tableOf(em, entity)}" t where t.id = any(?::uuid[]) and ${visible.sql}`,
    params: [uuidArray(ids), ...visible.params],
  });
  return rows.map((row) => em.map(entity, row));
}

/** The patients `user` may see, newest first after the cursor; `search` matches the name or the external id (MRN). */
export async function findVisiblePatients(
  em: EntityManager,
  user: Caller,
  args: {
    search: string | null;
    includeArchived: boolean;
    tag: string;
    after: string | null | undefined;
    take: number;
  },
): Promise<Patient[]> {
  const qb = visiblePatientsQb(em, user, args)?.select('*');
  if (!qb) return [];
  keysetAfter(qb, 'p', args.tag, args.after);
  return qb.orderBy({ createdAt: 'desc', id: 'desc' }).limit(args.take).getResultList();
}

/** How many patients `findVisiblePatients` pages over: the same search, no cursor. */
export async function countVisiblePatients(
  em: EntityManager,
  user: Caller,
  args: { search: string | null; includeArchived: boolean },
): Promise<number> {
  return (await visiblePatientsQb(em, user, args)?.getCount()) ?? 0;
}

/** The patients `user` may see matching the search (aliased `p`); null when they may see none. */
function visiblePatientsQb(em: EntityManager, user: Caller, args: { search: string | null; includeArchived: boolean }) {
  const visible = visiblePatientsSql(user, 'p');
  if (!visible) return null;
  const qb = em.createQueryBuilder(Patient, 'p').where(visible.sql, visible.params);
  if (!args.includeArchived) qb.andWhere('p.archived_at is null');
  if (args.search) {
    const like = `%${args.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    qb.andWhere('(p.display_name ilike ? or p.external_id ilike ?)', [like, like]);
  }
  return qb;
}

export type TimelineSource = 'EVENT' | 'LESION' | 'IMAGE' | 'PREDICTION' | 'SEGMENTATION';

/** The union of the tables that record something about the patient: (source, id, created_at), five `?` for the patient id. */
const TIMELINE_SQL = `select 'EVENT' as source, id, created_at from patient_events where patient_id = ?
       union all select 'LESION', id, created_at from lesions where patient_id = ?
       union all select 'IMAGE', id, created_at from images where patient_id = ?
       union all select 'PREDICTION', id, created_at from predictions where patient_id = ?
       union all select 'SEGMENTATION', id, created_at from segmentations where patient_id = ?`;

/**
 * One page of a patient's timeline as (source, id, created_at): a UNION ALL over the tables that
 * record something about the patient. Forwards: newest first, strictly older than `bound`;
 * backwards: oldest first, strictly newer than `bound`.
 */
export async function timelineRows(
  em: EntityManager,
  patientId: string,
  page: { bound: { createdAt: Date; id: string } | null; backward: boolean },
  take: number,
): Promise<{ source: TimelineSource; id: string; createdAt: Date }[]> {
  const params: unknown[] = [patientId, patientId, patientId, patientId, patientId];
  const { bound, backward } = page;
  if (bound) params.push(bound.createdAt, bound.id);
  params.push(take);
  const dir = backward ? 'asc' : 'desc';
  const rows = (await em.execute(
    `select t.source, t.id, t.created_at from (${TIMELINE_SQL}) t
     ${bound ? `where (t.created_at, t.id) ${backward ? '>' : '<'} (?, ?)` : ''} order by t.created_at ${dir}, t.id ${dir} limit ?`,
    params,
  )) as { source: TimelineSource; id: string; created_at: Date | string }[];
  return rows.map((r) => ({ source: r.source, id: r.id, createdAt: new Date(r.created_at) }));
}

/** How many rows a patient's timeline has. */
export async function countTimeline(em: EntityManager, patientId: string): Promise<number> {
  const rows = (await em.execute(`select count(*)::int as n from (${TIMELINE_SQL}) t`, [
    patientId,
    patientId,
    patientId,
    patientId,
    patientId,
  ])) as { n: number }[];
  return rows[0].n;
}
