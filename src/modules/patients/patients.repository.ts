import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { Patient, Role } from '../../entities';
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
  const qb = em.createQueryBuilder(entity, 't') as unknown as QueryBuilder<T>;
  return qb
    .select('*')
    .where({ id: { $in: [...ids] } } as never)
    .andWhere(visible.sql, visible.params)
    .getResultList();
}
