import {
  backoffDelay,
  DEFAULT_RETRY,
  PermanentJobError,
  type JobHandler,
  type JobQueue,
  type RetryPolicy,
} from './queue';

/**
 * Embedded mode: jobs run in this process, at most `concurrency` at once, in arrival order.
 * Retries with exponential backoff; a PermanentJobError ends a job at once. Nothing survives a
 * restart (jobs left QUEUED/RUNNING are failed at the next start by the runner's recovery).
 */
export class MemoryJobQueue implements JobQueue {
  readonly kind = 'memory' as const;
  private readonly waiting: Array<{ jobId: string; attempt: number }> = [];
  private readonly running = new Set<Promise<void>>();
  /** Retries waiting for their backoff, and their job ids. */
  private readonly timers = new Map<NodeJS.Timeout, string>();
  private closed = false;

  constructor(
    private readonly handler: JobHandler,
    private readonly concurrency: number,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly onError: (jobId: string, err: unknown, final: boolean) => void = () => undefined,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  }

  async enqueue(jobId: string): Promise<void> {
    if (this.closed) throw new Error('the job queue is shutting down');
    this.waiting.push({ jobId, attempt: 1 });
    this.pump();
  }

  async remove(jobId: string): Promise<boolean> {
    let removed = false;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].jobId === jobId) {
        this.waiting.splice(i, 1);
        removed = true;
      }
    }
    for (const [timer, id] of this.timers) {
      if (id !== jobId) continue;
      clearTimeout(timer);
      this.timers.delete(timer);
      removed = true;
    }
    return removed;
  }

  async depth(): Promise<number> {
    return this.waiting.length + this.timers.size;
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      const p = this.runOne(next.jobId, next.attempt).finally(() => {
        this.running.delete(p);
        this.pump();
      });
      this.running.add(p);
    }
  }

  private async runOne(jobId: string, attempt: number): Promise<void> {
    const final = attempt >= this.retry.attempts;
    try {
      await this.handler({ jobId, attempt, final });
    } catch (err) {
      const permanent = err instanceof PermanentJobError;
      this.onError(jobId, err, final || permanent);
      if (final || permanent || this.closed) return;
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (this.closed) return;
          this.waiting.push({ jobId, attempt: attempt + 1 });
          this.pump();
        },
        backoffDelay(this.retry, attempt),
      );
      this.timers.set(timer, jobId);
    }
  }

  /** Drains: running jobs finish (queued ones are dropped and stay QUEUED in the database). */
  async close(timeoutMs = 15_000): Promise<void> {
    this.closed = true;
    for (const t of this.timers.keys()) clearTimeout(t);
    this.timers.clear();
    const drained = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, timeoutMs).unref()))]);
    clearTimeout(timer);
  }
}
