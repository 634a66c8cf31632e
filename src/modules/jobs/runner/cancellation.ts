import type { PubSub } from '../../../infra/messaging/pubsub';
import type { JobResults } from './result-writer';

/** The pub/sub topic that carries `{ jobId }` of each cancelled job to every process running jobs. */
export const CANCEL_TOPIC = 'JOB_CANCELLED';

/** What a runner reads between images and before storing a result: whether its job was cancelled. */
export interface CancelFlag {
  cancelled: boolean;
}

/**
 * Cancellation between processes. `cancelJob` (any api process) ends the job row CANCELLED and
 * announces it here; the process running the job (this one in embedded mode, a `dermagraph worker`
 * with BullMQ) hears it on the pub/sub (Redis when configured) and sets the flag of that job, which
 * its runner checks between images. The job row stays the source of truth: a runner that missed the
 * message learns it from the statement storing its next result, which moves only RUNNING jobs.
 */
export class JobCancellations {
  /** The flags of the jobs this process runs now (an attempt each). */
  private readonly watched = new Map<string, Set<CancelFlag>>();
  private listener: AsyncIterator<unknown> | null = null;

  constructor(private readonly pubSub: PubSub) {}

  /** Tells every process (this one included) that `jobId` was cancelled. */
  announce(jobId: string): void {
    this.pubSub.publish(CANCEL_TOPIC, { jobId });
  }

  /**
   * A flag set when `jobId` is announced cancelled, until `release` (call it when the attempt ends).
   * Starts listening on first use (only processes that run jobs listen).
   */
  watch(jobId: string): { flag: CancelFlag; release: () => void } {
    this.listen();
    const flag: CancelFlag = { cancelled: false };
    const flags = this.watched.get(jobId) ?? new Set<CancelFlag>();
    flags.add(flag);
    this.watched.set(jobId, flags);
    return {
      flag,
      release: () => {
        flags.delete(flag);
        if (flags.size === 0 && this.watched.get(jobId) === flags) this.watched.delete(jobId);
      },
    };
  }

  /** Starts listening for announcements (a process that runs jobs calls it at start; `watch` does too). */
  listen(): void {
    if (this.listener) return;
    const it = this.pubSub.subscribe(CANCEL_TOPIC)[Symbol.asyncIterator]();
    this.listener = it;
    void (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        const jobId = (r.value as { jobId?: unknown } | null)?.jobId;
        for (const flag of this.watched.get(String(jobId)) ?? []) flag.cancelled = true;
      }
    })().catch(() => {
      // The subscription ended with an error (e.g. overflow): listen again at the next watch.
      if (this.listener === it) this.listener = null;
    });
  }

  /** Stops listening. */
  async close(): Promise<void> {
    const it = this.listener;
    this.listener = null;
    await it?.return?.();
  }
}

/**
 * Whether an attempt's job ended elsewhere: cancelled (announced on its flag), or found no longer
 * RUNNING by the statement that stored one of its results. The runner reads it between images and
 * before storing.
 */
export class AttemptState {
  results: JobResults | null = null;
  constructor(private readonly flag: CancelFlag) {}

  get stopped(): boolean {
    return this.flag.cancelled || !!this.results?.ended;
  }
}
