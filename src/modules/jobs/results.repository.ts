import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { JobStatus } from '../../entities/inference-job';
import { Prediction } from '../../entities/prediction';
import { Segmentation } from '../../entities/segmentation';
import { createdBetween, firstRowsPerParent, keysetAfter, uuidArray, type Statement } from '../../infra/database/sql';
import type { JobAdvance, JobRepository } from './job.repository';

export type ResultRow = Record<string, unknown> & { id: string; imageId: string };
export type ResultEntity = typeof Prediction | typeof Segmentation;

/**
 * `insert ... on conflict (job_id, image_id) do nothing returning id` for many rows (keyed by
 * entity property) as one jsonb parameter: PostgreSQL unpacks and converts the values itself
 * (jsonb_populate_recordset with the table's row type), so a group of any size costs the same
 * small amount of work here.
 */
function insertRowsSql(
  em: EntityManager,
  entity: ResultEntity,
  rows: ResultRow[],
): { sql: string; params: string[]; table: string } {
  const meta = em.getMetadata(entity);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const json = rows.map((r) => columnRow(em, entity, r, keys));
  // Bytes (a Grad-CAM map) travel as bytea's hex text, which the row type's bytea column reads back.
  for (const row of json) for (const k in row) if (Buffer.isBuffer(row[k])) row[k] = byteaHex(row[k]);
  const list = keys.map((k) => `"${columnOf(em, entity, k)}"`).join(', ');
  return {
    sql: `insert into "${meta.tableName}" (${list}) select ${list} from jsonb_populate_recordset(null::"${meta.tableName}", ?::jsonb) on conflict (job_id, image_id) do nothing returning id, owner_id, created_at`,
    params: [JSON.stringify(json)],
    table: meta.tableName,
  };
}

/**
 * `with stored as (the insert), usage as (...)`: the rows and their owners' monthly usage
 * (prediction_usage, which the quotas read); only rows actually inserted count, so a duplicate
 * attempt's row does not. The caller adds its own CTEs and the final select.
 */
function withUsage(insert: { sql: string; table: string }): string {
  const column = insert.table === 'predictions' ? 'count' : 'segmentations';
  return `with stored as (${insert.sql}),
           usage as (
             insert into prediction_usage (owner_id, month, ${column})
             select owner_id, date_trunc('month', created_at at time zone 'UTC')::date, count(*)::int from stored group by 1, 2
             on conflict (owner_id, month) do update set ${column} = prediction_usage.${column} + excluded.${column})`;
}

const byteaHex = (bytes: Buffer) => `\\x${bytes.toString('hex')}`;

/** The column of an entity property. */
function columnOf(em: EntityManager, entity: ResultEntity, key: string): string {
  const meta = em.getMetadata(entity);
  const column = meta.properties[key as keyof typeof meta.properties]?.fieldNames?.[0];
  if (!column) throw new Error(`${meta.className} has no property ${key}`);
  return column;
}

/** A result row keyed by column, as the table holds it (`keys`: the properties to give, null where the row has none). */
export function columnRow(
  em: EntityManager,
  entity: ResultEntity,
  row: ResultRow,
  keys: readonly string[] = Object.keys(row),
): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [columnOf(em, entity, k), row[k] ?? null]));
}

/** The statements on the result tables (predictions, segmentations). */
/** A patient's results created in [since, until), with a member of `model` (table aliased `r`). */
function patientResultsQb<T extends Prediction | Segmentation>(
  em: EntityManager,
  entity: new () => T,
  patientId: string,
  args: { since?: Date | null; until?: Date | null; model: string | null },
): QueryBuilder<T> {
  const qb = (em.createQueryBuilder(entity, 'r') as unknown as QueryBuilder<T>).where('r.patient_id = ?', [patientId]);
  createdBetween(qb, 'r', args);
  if (args.model) qb.andWhere('r.members @> ?::jsonb', [JSON.stringify([{ model: args.model }])]);
  return qb;
}

export class ResultRepository {
  constructor(private readonly jobs: JobRepository) {}

  /**
   * Stores a group of rows of one result table and moves their jobs on, in ONE statement (measured:
   * under load it is what lets many images share a round trip): the rows, their owners' monthly
   * usage (prediction_usage, which the quota reads; only rows actually inserted count, so a
   * duplicate attempt's row does not) and each job (JobRepository.advanceSql). Returns the ids of
   * the rows inserted, of the jobs that statement moved on (those still RUNNING: a job not among
   * them was cancelled or ended elsewhere) and of those it finished.
   */
  async storeGroup(
    em: EntityManager,
    entity: ResultEntity,
    rows: ResultRow[],
    jobs: JobAdvance[],
    finishedAt: Date,
  ): Promise<{ landed: Set<string>; moved: Set<string>; finished: Set<string>; table: string }> {
    const insert = insertRowsSql(em, entity, rows);
    const moved = this.jobs.advanceSql(jobs, finishedAt);
    const returned = (await em.execute(
      `${withUsage(insert)},
           moved as (${moved.sql})
           select 'result' as kind, id from stored
           union all select case when status = '${JobStatus.SUCCEEDED}' then 'finished' else 'moved' end, id from moved`,
      [...insert.params, ...moved.params],
    )) as Array<{ kind: 'result' | 'moved' | 'finished'; id: string }>;
    const ids = (...kinds: string[]) => new Set(returned.filter((r) => kinds.includes(r.kind)).map((r) => r.id));
    return {
      landed: ids('result'),
      moved: ids('moved', 'finished'),
      finished: ids('finished'),
      table: insert.table,
    };
  }

  /**
   * Rows of a job recorded in the same transaction (finished when it was recorded: uploadImages'
   * classification in the request), with their owners' monthly usage, as one statement to send with
   * others. No conflict is possible: the job is new.
   */
  insertStatement(em: EntityManager, entity: ResultEntity, rows: ResultRow[]): Statement {
    const insert = insertRowsSql(em, entity, rows);
    return { sql: `${withUsage(insert)} select id from stored`, params: insert.params };
  }

  /** Rows of `table` stored for any of these jobs and images (the winners of a conflict). */
  async existing(
    em: EntityManager,
    table: string,
    jobIds: string[],
    imageIds: string[],
  ): Promise<Array<{ id: string; job_id: string; image_id: string }>> {
    return (await em.execute(
      `select id, job_id, image_id from "${table}" where job_id = any(?::uuid[]) and image_id = any(?::uuid[])`,
      [uuidArray(jobIds), uuidArray(imageIds)],
    )) as Array<{ id: string; job_id: string; image_id: string }>;
  }

  /** image id -> result id of the results a job already has (an earlier attempt's). */
  async storedFor(em: EntityManager, entity: ResultEntity, jobId: string): Promise<Map<string, string>> {
    const rows = await em.find(entity as typeof Prediction, { job: jobId }, { fields: ['id', 'imageId'] });
    return new Map(rows.map((r) => [r.imageId, r.id]));
  }

  /**
   * A patient's results, newest first: created in [since, until), with a member of `model`, after
   * the cursor of the query tagged `tag`; `take` rows.
   */
  listForPatient<T extends Prediction | Segmentation>(
    em: EntityManager,
    entity: new () => T,
    patientId: string,
    args: {
      since?: Date | null;
      until?: Date | null;
      model: string | null;
      tag: string;
      after?: string | null;
      take: number;
    },
  ): Promise<T[]> {
    const qb = patientResultsQb(em, entity, patientId, args).select('*');
    keysetAfter(qb, 'r', args.tag, args.after);
    return qb
      .orderBy({ createdAt: 'desc', id: 'desc' } as never)
      .limit(args.take)
      .getResultList() as Promise<T[]>;
  }

  /** How many results `listForPatient` pages over: the same window, no cursor. */
  countForPatient(
    em: EntityManager,
    entity: new () => Prediction | Segmentation,
    patientId: string,
    args: { since?: Date | null; until?: Date | null; model: string | null },
  ): Promise<number> {
    return patientResultsQb(em, entity, patientId, args).getCount();
  }

  /** The newest `take` results of each patient, in one statement. */
  firstForPatients<T extends Prediction | Segmentation>(
    em: EntityManager,
    entity: new () => T,
    patientIds: readonly string[],
    take: number,
  ): Promise<Map<string, T[]>> {
    const table = entity === (Prediction as unknown) ? 'predictions' : 'segmentations';
    return firstRowsPerParent(em, entity, table, 'patient_id', patientIds, take);
  }

  /** The newest prediction of each patient (DISTINCT ON: one statement for all of them). */
  async latestPredictions(em: EntityManager, patientIds: readonly string[]): Promise<Map<string, Prediction>> {
    const rows = (await em.execute(
      `select distinct on (p.patient_id) p.* from predictions p where p.patient_id = any(?::uuid[]) order by p.patient_id, p.created_at desc, p.id desc`,
      [uuidArray(patientIds)],
    )) as Record<string, unknown>[];
    return new Map(rows.map((r) => [String(r.patient_id), em.map(Prediction, r)]));
  }

  /** A segmentation by id, whoever may see it (a signed URL is its own authorisation). */
  segmentation(em: EntityManager, id: string): Promise<Segmentation | null> {
    return em.findOne(Segmentation, id);
  }
}
