import type { EntityManager } from '@mikro-orm/postgresql';
import { JobKind, JobStatus, type InferenceJob } from '../../entities';
import { conflict, notFound } from '../../infra/errors';
import { isUuid } from '../../infra/database/sql';
import { keyset, keysetPage, queryTag, type Page } from '../../infra/pagination';
import type { JobListFilter, JobsModule } from '../jobs';

export interface AllJobsQuery {
  status?: readonly JobStatus[] | null;
  kind?: JobKind | null;
  ownerId?: string | null;
  since?: Date | null;
  until?: Date | null;
  first?: number | null;
  after?: string | null;
}

/** Every user's jobs, newest first (admins: e.g. `status: [FAILED]` with their reasons in `error`). */
export async function listAllJobs(
  em: EntityManager,
  jobs: JobsModule,
  args: AllJobsQuery,
): Promise<Page<InferenceJob>> {
  const statuses = [...new Set(args.status ?? [])].sort();
  const ownerId = args.ownerId ? args.ownerId.toLowerCase() : null;
  const tag = queryTag([
    'allJobs',
    statuses,
    args.kind ?? null,
    ownerId,
    args.since?.toISOString() ?? null,
    args.until?.toISOString() ?? null,
  ]);
  const k = keyset(tag, { first: args.first, after: args.after });
  // An id that is no uuid owns no job (and must not reach the uuid column).
  if (ownerId && !isUuid(ownerId))
    return keysetPage(
      tag,
      [],
      k,
      (j) => j,
      async () => 0,
    );
  const filter: JobListFilter = {
    ownerId,
    visible: null,
    statuses,
    kind: args.kind ?? null,
    since: args.since ?? null,
    until: args.until ?? null,
  };
  const rows = await jobs.jobs.list(em, filter, k);
  return keysetPage(
    tag,
    rows,
    k,
    (j) => j,
    () => jobs.jobs.count(em, filter),
  );
}

/**
 * retryJob: a FAILED classification or segmentation job QUEUED again and put back on the queue. Its
 * progress stream starts again (inferenceProgress replays from the retry on); images whose results an
 * earlier attempt stored are not run again. NOT_FOUND for no such job; CONFLICT (JOB_NOT_FAILED, with
 * its status) for one that did not fail, or (NOT_RETRYABLE) for a report job (its
 * report's state and file follow its one run: a new report is generated instead).
 */
export async function retryJob(em: EntityManager, jobs: JobsModule, id: string): Promise<InferenceJob> {
  if (!isUuid(id)) throw notFound('Job', { field: 'id' });
  const before = await jobs.jobs.find(em, id);
  if (!before) throw notFound('Job', { field: 'id' });
  if (before.kind === JobKind.REPORT)
    throw conflict('A report job cannot be retried: generate the report again', {
      field: 'id',
      reason: 'NOT_RETRYABLE',
    });
  const job = await jobs.jobs.retry(em, before.id);
  if (!job) {
    const status = (await jobs.jobs.statusOf(em, before.id)) ?? before.status;
    throw conflict(`Only a FAILED job can be retried; this one is ${status}`, {
      field: 'id',
      reason: 'JOB_NOT_FAILED',
      status,
    });
  }
  // A failed entry BullMQ keeps under the same id would make the new one a no-op: removed first.
  await jobs.queue.remove(job.id).catch(() => false);
  await jobs.progress.reset(job.id);
  await jobs.progress.publish({
    jobId: job.id,
    stage: 'queued',
    status: JobStatus.QUEUED,
    progress: job.progress,
    attempt: job.attempts,
    imageCount: job.total,
    message: 'retried by an admin',
  });
  try {
    await jobs.queue.enqueue(job.id);
  } catch (err) {
    await jobs.jobs.failUnqueued(em, job.id, 'INTERNAL_SERVER_ERROR: the queue refused the retry');
    throw err;
  }
  return job;
}
