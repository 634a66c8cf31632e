import type { EntityManager } from '@mikro-orm/postgresql';
import { InferenceJob, JobStatus } from '../../entities/inference-job';

/** A job that may still run: the queue may hold it, or a runner has it. */
const UNFINISHED = [JobStatus.QUEUED, JobStatus.RUNNING] as const;
/** The same, as SQL text (`'QUEUED', 'RUNNING'`): enum constants, never input. */
const UNFINISHED_SQL = UNFINISHED.map((s) => `'${s}'`).join(', ');

/** A condition on the job's images (alias `ji`), such as "its patient is visible to the caller". */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

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
    const { id, createdAt, updatedAt, kind, status, stage, progress, attempts, resultIds, total } = job;
    await em.getConnection().execute(
      `insert into inference_jobs (id, created_at, updated_at, owner_id, kind, status, stage, progress, attempts, request, result_ids, total)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
      [
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
      ],
    );
  }

  /** Removes a job nobody has seen yet (refused after it was recorded). */
  async remove(em: EntityManager, id: string): Promise<void> {
    await em.nativeDelete(InferenceJob, { id });
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
      qb.andWhere({ owner: scope.ownerId }).andWhere(
        `not exists (select 1 from images ji where ji.id in (select jsonb_array_elements_text(j.request -> 'imageIds')::uuid) and not ${scope.visible.sql})`,
        scope.visible.params,
      );
    }
    return qb.getSingleResult();
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

  /** Records `job` SUCCEEDED (its fields already set by the caller) in one plain statement. */
  async finish(em: EntityManager, job: InferenceJob): Promise<void> {
    await em
      .getConnection()
      .execute(
        `update inference_jobs set status = '${JobStatus.SUCCEEDED}', stage = 'done', progress = 1, error = null, finished_at = ?, updated_at = ?, result_ids = ? where id = ?`,
        [job.finishedAt, job.updatedAt, JSON.stringify(job.resultIds), job.id],
      );
  }

  /**
   * A failed attempt: FAILED when `final`, else QUEUED again for the retry, with `error`. Returns
   * the job as it now is (null when it is gone).
   */
  async recordFailedAttempt(
    em: EntityManager,
    id: string,
    outcome: { error: string; final: boolean },
  ): Promise<InferenceJob | null> {
    const job = await em.findOne(InferenceJob, id);
    if (!job) return null;
    job.error = outcome.error;
    if (outcome.final) {
      job.status = JobStatus.FAILED;
      job.stage = 'failed';
      job.finishedAt = new Date();
    } else {
      job.status = JobStatus.QUEUED;
      job.stage = 'queued';
    }
    await em.flush();
    return job;
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
