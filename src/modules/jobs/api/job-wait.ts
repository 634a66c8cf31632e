import { SubscriberOverflowError, type PubSub } from '../../../infra/messaging/pubsub';
import { JobStatus, type InferenceJob } from '../../../entities';
import { isFinalStage, PROGRESS_TOPIC, type ProgressEvent } from '../progress';

/**
 * A slow second look at the job while waiting. Events are what ends a wait; this only covers an
 * event lost before the pub/sub subscription took effect (Redis subscribes asynchronously).
 */
const RECHECK_MS = 2_000;

/** QUEUED and RUNNING jobs may still change; every other status (SUCCEEDED, FAILED, CANCELLED...) is final. */
export const jobHasEnded = (status: JobStatus): boolean => status !== JobStatus.QUEUED && status !== JobStatus.RUNNING;

export interface JobWaitDeps {
  /** The pub/sub the progress events travel on (every process's runner publishes there). */
  pubSub: PubSub;
  /** The job as the database has it now (null: no longer visible to the caller). */
  reread(id: string): Promise<InferenceJob | null>;
  /** The job's progress events so far (the log `inferenceProgress` replays; empty once expired). */
  history(id: string): Promise<ProgressEvent[]>;
}

export interface WaitOptions {
  /** Epoch milliseconds after which the job is answered as it stands. */
  deadline: number;
  /** Aborted when the client went away: the wait stops and its subscription is released. */
  signal?: AbortSignal;
  /**
   * false: the caller answers something else than the job (uploadImages answers its images, whose
   * results it reads through their own access checks), so an event that says the job ended ends the
   * wait without reading the row again; the job answered then carries the event's status and stage.
   * Default true.
   */
  readBack?: boolean;
}

/**
 * Resolves with the job once it has ended, or at the deadline (or when `signal` aborts) with the job
 * as it stands: never an error for slowness. Listens to the job's progress channel (the one
 * `inferenceProgress` reads, so a BullMQ worker in another process ends the wait too) and reads the
 * job row only when an event says it ended (one read for a job that ends while waited for), and
 * every RECHECK_MS as a safety net. An end published before the subscription took effect is found
 * in the job's event log at the start. The subscription is released on every way out.
 */
export async function waitForJob(deps: JobWaitDeps, job: InferenceJob, opts: WaitOptions): Promise<InferenceJob> {
  if (jobHasEnded(job.status) || opts.signal?.aborted || Date.now() >= opts.deadline) return job;
  // Subscribe first, then read the row: an end published in between is heard, not missed.
  const events = deps.pubSub.subscribe(PROGRESS_TOPIC, job.id)[Symbol.asyncIterator]();
  let latest = job;
  let ended = false;
  let stopped = false;
  const stop = () => {
    stopped = true;
    void events.return?.();
  };
  /** Reads the row; ends the wait when it says the job ended. */
  const look = async () => {
    const fresh = await deps.reread(job.id);
    if (fresh) latest = fresh;
    if (fresh && jobHasEnded(fresh.status)) {
      ended = true;
      stop();
    }
  };
  const timer = setTimeout(stop, Math.max(0, opts.deadline - Date.now()));
  let checking: Promise<void> | null = null;
  const recheck = setInterval(() => {
    checking ??= look()
      .catch(() => undefined)
      .finally(() => (checking = null));
  }, RECHECK_MS);
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    if ((await deps.history(job.id)).some((e) => isFinalStage(e.stage))) await look();
    while (!stopped) {
      const r = await events.next();
      if (r.done) break;
      const e = r.value as ProgressEvent;
      if (!(e.stage === 'done' || e.stage === 'failed' || jobHasEnded(e.status))) continue;
      if (opts.readBack !== false) await look();
      else {
        latest = Object.assign(Object.create(Object.getPrototypeOf(latest)) as InferenceJob, latest, {
          status: e.status,
          stage: e.stage,
        });
        ended = true;
        stop();
      }
    }
  } catch (err) {
    // A subscriber that fell behind is ended by the pub/sub: the row below tells how the job stands.
    if (!(err instanceof SubscriberOverflowError)) throw err;
  } finally {
    clearTimeout(timer);
    clearInterval(recheck);
    opts.signal?.removeEventListener('abort', stop);
    await events.return?.();
    await checking;
  }
  if (!ended && !opts.signal?.aborted) {
    const fresh = await deps.reread(job.id);
    if (fresh) latest = fresh;
  }
  return latest;
}

/** waitForJob for several jobs against one deadline; answers them in the order given. */
export function waitForJobs(deps: JobWaitDeps, jobs: InferenceJob[], opts: WaitOptions): Promise<InferenceJob[]> {
  return Promise.all(jobs.map((j) => waitForJob(deps, j, opts)));
}
