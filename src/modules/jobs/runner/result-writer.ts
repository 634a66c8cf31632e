import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Prediction } from '../../../entities/prediction';
import type { Segmentation } from '../../../entities/segmentation';
import { uuidArray } from '../../patients/access-policy';

export type ResultRow = Record<string, unknown> & { id: string; imageId: string };
export type ResultEntity = typeof Prediction | typeof Segmentation;

/** One job's results as they are stored: image id -> result id. */
export class JobResults {
  readonly stored: Map<string, string>;
  /** Set when the statement that stored the job's last result also finished the job. */
  finishedAt: Date | null = null;

  constructor(
    readonly jobId: string,
    readonly imageIds: readonly string[],
    alreadyStored: ReadonlyMap<string, string> = new Map(),
  ) {
    this.stored = new Map(alreadyStored);
  }

  /** The result ids, in the order of the job's images, with `landing` (image -> id) counted as stored. */
  resultIds(landing: ReadonlyMap<string, string> = new Map()): string[] {
    return this.imageIds.map((id) => this.stored.get(id) ?? landing.get(id)).filter((x): x is string => !!x);
  }
}

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
  const columns = keys.map((k) => {
    const column = meta.properties[k as keyof typeof meta.properties]?.fieldNames?.[0];
    if (!column) throw new Error(`${meta.className} has no property ${k}`);
    return column;
  });
  const json = rows.map((r) => Object.fromEntries(keys.map((k, i) => [columns[i], r[k] ?? null])));
  const list = columns.map((c) => `"${c}"`).join(', ');
  return {
    sql: `insert into "${meta.tableName}" (${list}) select ${list} from jsonb_populate_recordset(null::"${meta.tableName}", ?::jsonb) on conflict (job_id, image_id) do nothing returning id, owner_id, created_at`,
    params: [JSON.stringify(json)],
    table: meta.tableName,
  };
}

interface Waiting {
  entity: ResultEntity;
  job: JobResults;
  row: ResultRow;
  resolve: (storedId: string) => void;
  reject: (e: unknown) => void;
}

/**
 * Stores results with group commit, for every job of the process: the rows that arrive while a
 * write is in flight (or lingering, see the constructor) go together in the next one. Each write
 * is one statement per result table that inserts the rows and moves each job they belong to on:
 * progress, stage and result ids, or, with its last result, SUCCEEDED. At low load a row is written at once; under load many images
 * (of one job or of many) share a statement instead of costing two each.
 *
 * A row another attempt already stored for the same image of the job (a worker that lost its lock
 * and kept going) is not inserted; `store` then resolves with that row's id.
 */
export class ResultSink {
  private waiting: Waiting[] = [];
  private writing = false;
  private lastWriteEnd = 0;
  private lingering: NodeJS.Timeout | null = null;

  /**
   * `lingerMs`: under load (a write ended less than this long ago) the next write waits until
   * this long after it, so more rows share it; a write after a quiet spell goes at once.
   */
  constructor(
    private readonly orm: MikroORM,
    private readonly lingerMs = 5,
    private readonly maxGroup = 128,
  ) {}

  /** Resolves once the row (or an earlier attempt's row for its image) is in the database, with its id. */
  store(entity: ResultEntity, job: JobResults, row: ResultRow): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entity, job, row, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.lingering || this.waiting.length === 0) return;
    const wait = this.lastWriteEnd + this.lingerMs - performance.now();
    if (wait > 0 && this.waiting.length < this.maxGroup) {
      this.lingering = setTimeout(() => {
        this.lingering = null;
        this.kick();
      }, wait);
      return;
    }
    this.writing = true;
    const group = this.waiting.splice(0, this.maxGroup);
    const byEntity = new Map<ResultEntity, Waiting[]>();
    for (const w of group) byEntity.set(w.entity, [...(byEntity.get(w.entity) ?? []), w]);
    void Promise.all([...byEntity].map(([entity, ws]) => this.write(entity, ws))).finally(() => {
      this.writing = false;
      this.lastWriteEnd = performance.now();
      this.kick();
    });
  }

  private async write(entity: ResultEntity, group: Waiting[]): Promise<void> {
    try {
      const em = this.orm.em.fork();
      const rows = group.map((w) => w.row);
      // Each job as it will be once these rows land (a row that conflicts is corrected below; its
      // image has a result either way, so a job whose images all have one is finished).
      const landing = new Map<JobResults, Map<string, string>>();
      for (const { job, row } of group) {
        const m = landing.get(job) ?? new Map<string, string>();
        if (!job.stored.has(row.imageId)) m.set(row.imageId, row.id);
        landing.set(job, m);
      }
      const finishedAt = new Date();
      const jobs = [...landing].map(([job, m]) => {
        const resultIds = job.resultIds(m);
        return {
          id: job.jobId,
          done: resultIds.length === job.imageIds.length,
          progress: resultIds.length / job.imageIds.length,
          result_ids: resultIds,
        };
      });
      const insert = insertRowsSql(em, entity, rows);
      // Results count against their owner's month (the quota and the dashboard read the count);
      // only rows actually inserted count, so a duplicate attempt's row does not.
      const column = insert.table === 'predictions' ? 'count' : 'segmentations';
      const returned = (await em.execute(
        `with stored as (${insert.sql}),
           usage as (
             insert into prediction_usage (owner_id, month, ${column})
             select owner_id, date_trunc('month', created_at at time zone 'UTC')::date, count(*)::int from stored group by 1, 2
             on conflict (owner_id, month) do update set ${column} = prediction_usage.${column} + excluded.${column}),
           moved as (
             update inference_jobs j set
               progress = case when v.done then 1 else greatest(j.progress, v.progress) end,
               stage = case when v.done then 'done' else 'persisted' end,
               status = case when v.done then 'SUCCEEDED'::inference_job_status else j.status end,
               error = case when v.done then null else j.error end,
               finished_at = case when v.done then ?::timestamptz else j.finished_at end,
               result_ids = v.result_ids, updated_at = ?::timestamptz
             from jsonb_to_recordset(?::jsonb) as v(id uuid, done boolean, progress float8, result_ids jsonb)
             where j.id = v.id and j.status = 'RUNNING'
             returning j.id, j.status)
           select 'result' as kind, id from stored union all select 'finished', id from moved where status = 'SUCCEEDED'`,
        [...insert.params, finishedAt, finishedAt, JSON.stringify(jobs)],
      )) as Array<{ kind: 'result' | 'finished'; id: string }>;
      const landed = new Set(returned.filter((r) => r.kind === 'result').map((r) => r.id));
      const finished = new Set(returned.filter((r) => r.kind === 'finished').map((r) => r.id));
      const lost = group.filter(({ row }) => !landed.has(row.id));
      if (lost.length) {
        const existing = (await em.execute(
          `select id, job_id, image_id from "${insert.table}" where job_id = any(?::uuid[]) and image_id = any(?::uuid[])`,
          [uuidArray(lost.map((w) => w.job.jobId)), uuidArray(lost.map((w) => w.row.imageId))],
        )) as Array<{ id: string; job_id: string; image_id: string }>;
        for (const { job, row } of lost) {
          const e = existing.find((x) => x.job_id === job.jobId && x.image_id === row.imageId);
          if (e) job.stored.set(row.imageId, e.id);
        }
        // The statement recorded the lost rows' ids among the jobs' results: record the winners'.
        for (const job of new Set(lost.map((w) => w.job))) {
          await em.execute(`update inference_jobs set result_ids = ? where id = ?`, [
            JSON.stringify(job.resultIds(landing.get(job))),
            job.jobId,
          ]);
        }
      }
      for (const { job, row } of group) if (landed.has(row.id)) job.stored.set(row.imageId, row.id);
      for (const job of landing.keys()) if (finished.has(job.jobId)) job.finishedAt = finishedAt;
      for (const w of group) {
        const id = w.job.stored.get(w.row.imageId);
        if (id) w.resolve(id);
        else w.reject(new Error(`result of image ${w.row.imageId} was neither stored nor found`));
      }
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  }
}
