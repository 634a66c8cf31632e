import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { InferenceJob, JobKind, JobStatus, UNFINISHED_JOB_STATUSES } from '../../entities/inference-job';
import { createdBetween, type Statement } from '../../infra/database/sql';
import { keysetOrder, type Keyset } from '../../infra/pagination';

/** A job that may still run: the queue may hold it, or a runner has it. */
const UNFINISHED = UNFINISHED_JOB_STATUSES;
/** The same, as SQL text (`'QUEUED', 'RUNNING'`): enum constants, never input. */
const UNFINISHED_SQL = UNFINISHED.map((s) => `'${s}'`).join(', ');

/** A condition on the job's images (alias `ji`), such as "its patient is visible to the caller". */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** Which of an owner's jobs a list shows (JobRepository.list / count). */
export interface JobListFilter {
  /** null: every owner's jobs (the admins' allJobs). */
  ownerId: string | null;
  /** A condition every image of a listed job meets (alias `ji`); none: every job of the owner. */
  visible: SqlCondition | null;
  /** Any of these statuses; empty: all. */
  statuses: readonly JobStatus[];
  kind: JobKind | null;
  /** Created in [since, until). */
  since: Date | null;
  until: Date | null;
}

/** The job `j`'s images (its request's imageIds) all meet `visible` (alias `ji`). */
const everyImageSql = (visible: SqlCondition): SqlCondition => ({
  sql: `not exists (select 1 from images ji where ji.id in (select jsonb_array_elements_text(j.request -> 'imageIds')::uuid) and not ${visible.sql})`,
  params: visible.params,
});

/** What the statement that stores results does to each job it touches (see `advanceSql`). */
export interface JobAdvance {
  id: string;
  /** Every image of the job has its result once these rows land. */
  done: boolean;
  progress: number;
  result_ids: string[];
}

/**
 * Every statement on `inference_jobs`. Several are plain SQL on purpose (measured): the insert on
 * every inference request, the claim and the finish of each attempt run once per job and cost a
 * fraction of the ORM's unit of work; the state changes of a claimed job are single conditional
 * statements, so two runners of the same job (a worker that lost its lock) cannot both move it.
 * Statuses are always the JobStatus enum, interpolated where the SQL names them.
 */
export class JobRepository {
  /** Inserts a new job (built by the entity class, which supplies the defaults) as one plain statement. */
  async insert(em: EntityManager, job: InferenceJob, ownerId: string): Promise<void> {
    const { sql, params } = this.insertStatement(job, ownerId);
    await em.getConnection().execute(sql, params);
  }

  /** insert's statement, to send with others in one round trip. */
  insertStatement(job: InferenceJob, ownerId: string): Statement {
    const { id, createdAt, updatedAt, kind, status, stage, progress, attempts, resultIds, total } = job;
    return {
      sql: `insert into inference_jobs (id, created_at, updated_at, owner_id, kind, status, stage, progress, attempts, request, result_ids, total, started_at, finished_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?)`,
      params: [
        id,
        createdAt,
        updatedAt,
        ownerId,
        kind,
        status,
        stage,
        progress,
        attempts,
        JSON.stringify(job.request),
        JSON.stringify(resultIds),
        total,
        job.startedAt ?? null,
        job.finishedAt ?? null,
      ],
    };
  }

  /** A job the queue refused: FAILED with `error`. */
  async failUnqueued(em: EntityManager, id: string, error: string): Promise<void> {
    await em.nativeUpdate(InferenceJob, { id }, { status: JobStatus.FAILED, stage: 'failed', error });
  }

  /**
   * The job `id`; with `scope`, only when `ownerId` owns it and every one of its images (alias `ji`)
   * meets `visible`. One statement.
   */
  find(
    em: EntityManager,
    id: string,
    scope?: { ownerId: string; visible: SqlCondition },
  ): Promise<InferenceJob | null> {
    const qb = em.createQueryBuilder(InferenceJob, 'j').select('*').where({ id });
    if (scope) {
      const every = everyImageSql(scope.visible);
      qb.andWhere({ owner: scope.ownerId }).andWhere(every.sql, every.params);
    }
    return qb.getSingleResult();
  }

  /** The jobs `filter` selects, as a query builder over `j` (no order, no cursor). */
  private listed(em: EntityManager, filter: JobListFilter): QueryBuilder<InferenceJob> {
    const qb = em.createQueryBuilder(InferenceJob, 'j').where(filter.ownerId ? { owner: filter.ownerId } : {});
    if (filter.statuses.length) qb.andWhere({ status: { $in: [...filter.statuses] } });
    if (filter.kind) qb.andWhere({ kind: filter.kind });
    createdBetween(qb, 'j', filter);
    if (filter.visible) {
      const every = everyImageSql(filter.visible);
      qb.andWhere(every.sql, every.params);
    }
    return qb;
  }

  /** The `limit + 1` rows of the page `k` of the jobs `filter` selects, in `keysetOrder(k)`. */
  list(em: EntityManager, filter: JobListFilter, k: Keyset): Promise<InferenceJob[]> {
    const qb = this.listed(em, filter).select('*');
    if (k.bound) qb.andWhere(`(j.created_at, j.id) ${k.backward ? '>' : '<'} (?, ?)`, [k.bound.createdAt, k.bound.id]);
    return qb
      .orderBy(keysetOrder(k))
      .limit(k.limit + 1)
      .getResultList();
  }

  /** How many jobs `filter` selects (all pages). */
  count(em: EntityManager, filter: JobListFilter): Promise<number> {
    return this.listed(em, filter).getCount();
  }

  /**
   * Cancels a job that has not ended, in one statement: CANCELLED, stage `cancelled`, finished now;
   * results already stored stay. The job as it now is, or null when it had already ended (or is gone).
   */
  async cancel(em: EntityManager, id: string): Promise<InferenceJob | null> {
    const rows = (await em.getConnection().execute(
      `update inference_jobs set status = '${JobStatus.CANCELLED}', stage = 'cancelled', finished_at = now(), updated_at = now()
        where id = ? and status in (${UNFINISHED_SQL}) returning *`,
      [id],
    )) as Array<Record<string, unknown>>;
    return rows.length ? em.map(InferenceJob, rows[0]) : null;
  }

  /** The job's status now (null when it is gone): a runner's check that its job was not ended elsewhere. */
  async statusOf(em: EntityManager, id: string): Promise<JobStatus | null> {
    const rows = (await em.getConnection().execute(`select status from inference_jobs where id = ?`, [id])) as Array<{
      status: JobStatus;
    }>;
    return rows[0]?.status ?? null;
  }

  /** Ids of the jobs still QUEUED or RUNNING, oldest first. */
  async unfinishedIds(em: EntityManager): Promise<string[]> {
    const jobs = await em.find(
      InferenceJob,
      { status: { $in: [...UNFINISHED] } },
      { fields: ['id'], orderBy: { createdAt: 'asc' } },
    );
    return jobs.map((j) => j.id);
  }

  /** How many unfinished jobs pinned `name@version` (the registry's PinSource). */
  async countPinning(em: EntityManager, name: string, version: string): Promise<number> {
    const rows = (await em
      .getConnection()
      .execute(
        `select count(*)::int as n from inference_jobs where status in (${UNFINISHED_SQL}) and request->'members' @> ?::jsonb`,
        [JSON.stringify([{ model: name, version, pinned: true }])],
      )) as Array<{ n: number }>;
    return rows[0]?.n ?? 0;
  }

  /**
   * Starts an attempt in one statement: RUNNING, attempts + 1. A job already finished (a redelivered
   * queue entry) is left alone: null.
   */
  async claim(em: EntityManager, id: string): Promise<InferenceJob | null> {
    const rows = (await em.getConnection().execute(
      `update inference_jobs set status = '${JobStatus.RUNNING}', attempts = attempts + 1, started_at = coalesce(started_at, now()), stage = 'preprocessing', updated_at = now()
        where id = ? and status in (${UNFINISHED_SQL}) returning *`,
      [id],
    )) as Array<Record<string, unknown>>;
    return rows.length ? em.map(InferenceJob, rows[0]) : null;
  }

  /**
   * Records `job` SUCCEEDED (its fields already set by the caller) in one plain statement, if it is
   * still RUNNING. False when it was not (cancelled, or ended by another attempt meanwhile).
   */
  async finish(em: EntityManager, job: InferenceJob): Promise<boolean> {
    const res = (await em
      .getConnection()
      .execute(
        `update inference_jobs set status = '${JobStatus.SUCCEEDED}', stage = 'done', progress = 1, error = null, finished_at = ?, updated_at = ?, result_ids = ? where id = ? and status = '${JobStatus.RUNNING}'`,
        [job.finishedAt, job.updatedAt, JSON.stringify(job.resultIds), job.id],
        'run',
      )) as { affectedRows: number };
    return res.affectedRows > 0;
  }

  /**
   * A failed attempt: FAILED when `final`, else QUEUED again for the retry, with `error`, in one
   * statement. Returns the job as it now is; null when it is gone or had already ended (a job
   * cancelled while its attempt failed stays CANCELLED).
   */
  async recordFailedAttempt(
    em: EntityManager,
    id: string,
    outcome: { error: string; final: boolean },
  ): Promise<InferenceJob | null> {
    const next = outcome.final
      ? `status = '${JobStatus.FAILED}', stage = 'failed', finished_at = now()`
      : `status = '${JobStatus.QUEUED}', stage = 'queued'`;
    const rows = (await em
      .getConnection()
      .execute(
        `update inference_jobs set ${next}, error = ?, updated_at = now() where id = ? and status in (${UNFINISHED_SQL}) returning *`,
        [outcome.error, id],
      )) as Array<Record<string, unknown>>;
    return rows.length ? em.map(InferenceJob, rows[0]) : null;
  }

  /** Ends a job the queue gave up on: FAILED with `error`, unless it already finished (null). */
  async abandon(em: EntityManager, id: string, error: string): Promise<InferenceJob | null> {
    const rows = (await em.getConnection().execute(
      `update inference_jobs set status = '${JobStatus.FAILED}', stage = 'failed', error = ?, finished_at = now(), updated_at = now()
        where id = ? and status in (${UNFINISHED_SQL}) returning *`,
      [error, id],
    )) as Array<Record<string, unknown>>;
    return rows.length ? em.map(InferenceJob, rows[0]) : null;
  }

  /**
   * retryJob: a FAILED job QUEUED again in one statement (its error and end cleared; its attempts, progress
   * and stored results kept, so the next attempt skips the images already done). Null unless it was FAILED.
   */
  async retry(em: EntityManager, id: string): Promise<InferenceJob | null> {
    const rows = (await em.getConnection().execute(
      `update inference_jobs set status = '${JobStatus.QUEUED}', stage = 'queued', error = null, finished_at = null, updated_at = now()
        where id = ? and status = '${JobStatus.FAILED}' returning *`,
      [id],
    )) as Array<Record<string, unknown>>;
    return rows.length ? em.map(InferenceJob, rows[0]) : null;
  }

  /** Sets a job's result ids (the statement that stored them recorded another attempt's ids). */
  async setResultIds(em: EntityManager, id: string, resultIds: string[]): Promise<void> {
    await em.execute(`update inference_jobs set result_ids = ? where id = ?`, [JSON.stringify(resultIds), id]);
  }

  /**
   * The part of the result-storing statement (ResultRepository.storeGroup) that moves each RUNNING
   * job it names on: progress, stage and result ids, or, with its last result, SUCCEEDED at
   * `finishedAt`. A data-modifying CTE returning `id, status`; it takes its parameters in order.
   */
  advanceSql(jobs: JobAdvance[], finishedAt: Date): SqlCondition {
    return {
      sql: `update inference_jobs j set
               progress = case when v.done then 1 else greatest(j.progress, v.progress) end,
               stage = case when v.done then 'done' else 'persisted' end,
               status = case when v.done then '${JobStatus.SUCCEEDED}'::inference_job_status else j.status end,
               error = case when v.done then null else j.error end,
               finished_at = case when v.done then ?::timestamptz else j.finished_at end,
               result_ids = v.result_ids, updated_at = ?::timestamptz
             from jsonb_to_recordset(?::jsonb) as v(id uuid, done boolean, progress float8, result_ids jsonb)
             where j.id = v.id and j.status = '${JobStatus.RUNNING}'
             returning j.id, j.status`,
      params: [finishedAt, finishedAt, JSON.stringify(jobs)],
    };
  }
}
