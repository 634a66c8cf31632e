/**
 * Work made on the event loop while it stays quick, elsewhere (libuv's thread pool, a worker thread) after it
 * was not. A hand-over to another thread and back costs 70-120 µs of CPU on the 2-core VMs the bench runs on
 * (waking that thread, then the loop: docs/performance.md), more than a small file call (3-25 µs) or a small
 * model's run takes. But a disk or a model slower than expected would stall every request: once a call takes
 * longer than `slowMs`, calls go elsewhere until `elsewhereMs` have passed, and then one is tried on the loop again.
 */
export class QuickOnLoop {
  private elsewhereUntil = -Infinity;
  /** The calls' time so far, smoothed (see `smoothing`); null before the first call after a start or a slow spell. */
  private mean: number | null = null;

  /**
   * `smoothing`: the weight of each call's time in the mean that is compared with `slowMs` (an exponential moving
   * average). 1 (the default): one slow call is enough. Less: a lone outlier (a garbage collection that fell inside
   * the call) is not, a run of slow calls is.
   */
  constructor(private readonly opts: { slowMs: number; elsewhereMs: number; smoothing?: number; now?: () => number }) {}

  now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  /** True while calls go elsewhere (after a slow one). */
  get elsewhere(): boolean {
    return this.now() < this.elsewhereUntil;
  }

  /** Counts a call made on the loop that took `ms` (for callers that time their calls themselves). */
  took(ms: number): void {
    const w = this.opts.smoothing ?? 1;
    this.mean = this.mean === null ? ms : this.mean + w * (ms - this.mean);
    if (this.mean > this.opts.slowMs) {
      this.elsewhereUntil = this.now() + this.opts.elsewhereMs;
      this.mean = null;
    }
  }

  /**
   * `onLoop` while calls are quick, else `elsewhere`; the answer (or the error, as a rejection) comes back as a
   * promise either way. A call's time is until it returns, or, when it returns a promise, until that settles.
   */
  run<T>(onLoop: () => T | Promise<T>, elsewhere: () => Promise<T>): Promise<T> {
    if (this.elsewhere) return elsewhere();
    const started = this.now();
    const timed = () => this.took(this.now() - started);
    let out: T | Promise<T>;
    try {
      out = onLoop();
    } catch (err) {
      timed();
      return Promise.reject(err);
    }
    if (!(out instanceof Promise)) {
      timed();
      return Promise.resolve(out);
    }
    return out.finally(timed);
  }
}
