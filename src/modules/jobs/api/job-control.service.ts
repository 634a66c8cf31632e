import type { EntityManager } from '@mikro-orm/postgresql';
import { InferenceJob, JobStatus, Role, type JobKind } from '../../../entities';
import { conflict, notFound } from '../../../infra/errors';
import { keyset, keysetPage, queryTag, type Page } from '../../../infra/pagination';
import { visiblePatientIdSql, type Caller } from '../../patients';
import type { JobListFilter, JobRepository } from '../job.repository';
import type { ProgressPublisher } from '../progress';
import type { JobQueue } from '../queue/queue';
import type { JobCancellations } from '../runner/cancellation';

/** What `jobs` is asked for. */
export interface JobListArgs {
  status?: readonly JobStatus[] | null;
  kind?: JobKind | null;
  since?: Date | null;
  until?: Date | null;
  first?: number | null;
  after?: string | null;
}

export interface JobControlDeps {
  jobs: JobRepository;
  queue: JobQueue;
  progress: ProgressPublisher;
  cancellations: JobCancellations;
  /** The job if the caller may see it (JobService.findJob: its owner while every image's patient is visible, or an admin). */
  findJob(em: EntityManager, user: Caller, id: string): Promise<InferenceJob | null>;
}

/**
 * Listing and cancelling jobs. The list shows the caller's own jobs under the same rule as `job(id)`:
 * a job whose images include a patient no longer shared with its owner is left out (admins see all
 * patients, so all their jobs). Cancelling goes through the job row: one conditional statement ends
 * it CANCELLED, then the queue entry is removed, the runner told, and the final event published.
 */
export class JobControlService {
  constructor(private readonly deps: JobControlDeps) {}

  /** The caller's jobs, newest first, filtered by status, kind and creation time. */
  async list(em: EntityManager, user: Caller, args: JobListArgs): Promise<Page<InferenceJob>> {
    const statuses = [...new Set(args.status ?? [])].sort();
    const tag = queryTag([
      'jobs',
      user.id,
      statuses,
      args.kind ?? null,
      args.since?.toISOString() ?? null,
      args.until?.toISOString() ?? null,
    ]);
    const k = keyset(tag, { first: args.first, after: args.after });
    const admin = user.role === Role.ADMIN;
    const visible = admin ? null : visiblePatientIdSql(user, 'ji.patient_id');
    // A caller who may see no patient at all (a researcher) has no job to list.
    if (!admin && !visible)
      return keysetPage(
        tag,
        [],
        k,
        (j) => j,
        async () => 0,
      );
    const filter: JobListFilter = {
      ownerId: user.id,
      visible,
      statuses,
      kind: args.kind ?? null,
      since: args.since ?? null,
      until: args.until ?? null,
    };
    const rows = await this.deps.jobs.list(em, filter, k);
    return keysetPage(
      tag,
      rows,
      k,
      (j) => j,
      () => this.deps.jobs.count(em, filter),
    );
  }

  /**
   * Cancels a job the caller may see (NOT_FOUND otherwise). QUEUED: it never runs. RUNNING: its
   * runner, in whichever process, stops before its next image; results stored before stay. A job
   * that has ended is a CONFLICT (reason JOB_FINISHED, with its `status`).
   */
  async cancel(em: EntityManager, user: Caller, id: string): Promise<InferenceJob> {
    const seen = await this.deps.findJob(em, user, id);
    if (!seen) throw notFound('Job', { field: 'id' });
    const job = await this.deps.jobs.cancel(em, seen.id);
    if (!job) {
      const status = (await this.deps.jobs.statusOf(em, seen.id)) ?? seen.status;
      throw conflict(`The job has already ended (${status}): only a queued or running job can be cancelled`, {
        field: 'id',
        reason: 'JOB_FINISHED',
        status,
      });
    }
    // The row is the truth from here on: a runner that misses the announcement learns it when it
    // next stores a result, and a queue entry left behind is dropped when claimed.
    this.deps.cancellations.announce(job.id);
    await this.deps.queue.remove(job.id).catch(() => false);
    await this.deps.progress.publish({
      jobId: job.id,
      stage: 'cancelled',
      status: JobStatus.CANCELLED,
      progress: job.progress,
      attempt: job.attempts,
      imageCount: job.total,
      message:
        user.id === (job.owner as unknown as { id: string }).id ? 'cancelled by its owner' : 'cancelled by an admin',
    });
    return job;
  }
}
