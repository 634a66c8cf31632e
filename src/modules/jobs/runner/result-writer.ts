import type { MikroORM } from '@mikro-orm/postgresql';
import { Prediction } from '../../../entities/prediction';
import type { JobRepository } from '../job.repository';
import { columnRow, type ResultEntity, type ResultRepository, type ResultRow } from '../results.repository';
import type { WaitedResults } from './waited-results';

export type { ResultEntity, ResultRow } from '../results.repository';

/** One job's results as they are stored: image id -> result id. */
export class JobResults {
  readonly stored: Map<string, string>;
  /** Set when the statement that stored the job's last result also finished the job. */
  finishedAt: Date | null = null;
  /**
   * Set when a statement storing this job's results found the job no longer RUNNING (cancelled, or
   * ended by another attempt): its runner stops.
   */
  ended = false;

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
    private readonly repos: { jobs: JobRepository; results: ResultRepository; waited?: WaitedResults },
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
      const { landed, moved, finished, table } = await this.repos.results.storeGroup(
        em,
        entity,
        rows,
        jobs,
        finishedAt,
      );
      for (const job of landing.keys()) if (!moved.has(job.jobId)) job.ended = true;
      const lost = group.filter(({ row }) => !landed.has(row.id));
      if (lost.length) {
        const existing = await this.repos.results.existing(
          em,
          table,
          lost.map((w) => w.job.jobId),
          lost.map((w) => w.row.imageId),
        );
        for (const { job, row } of lost) {
          const e = existing.find((x) => x.job_id === job.jobId && x.image_id === row.imageId);
          if (e) job.stored.set(row.imageId, e.id);
        }
        // The statement recorded the lost rows' ids among the jobs' results: record the winners'.
        for (const job of new Set(lost.map((w) => w.job))) {
          await this.repos.jobs.setResultIds(em, job.jobId, job.resultIds(landing.get(job)));
        }
      }
      for (const { job, row } of group) if (landed.has(row.id)) job.stored.set(row.imageId, row.id);
      // Predictions a request in this process waits on: its answer is made from these rows, not read back.
      const { waited } = this.repos;
      if (entity === Prediction && waited)
        for (const { job, row } of group)
          if (landed.has(row.id) && waited.waitsOn(job.jobId)) waited.landed(job.jobId, [columnRow(em, entity, row)]);
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
