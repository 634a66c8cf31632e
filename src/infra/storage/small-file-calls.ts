/**
 * Where the small file-system calls of storing an upload run: a write of a few kilobytes, a link, an
 * unlink, a directory. Each is microseconds of work for the kernel, while a trip through libuv's thread
 * pool wakes a pool thread and then the event loop: 70-80 µs of CPU per call on the 2-core VMs the
 * bench runs on, against 3-25 µs made directly (docs/performance.md). So they are made on the event
 * loop, synchronously, while they stay that cheap. A disk that is not (a network file system, a stalled
 * device) would stall every request: once a call takes longer than `slowMs`, calls go through the pool
 * until `poolMs` have passed, and then one is tried on the loop again.
 */
export class SmallFileCalls {
  private poolUntil = -Infinity;

  constructor(
    private readonly opts: { slowMs: number; poolMs: number; now?: () => number } = { slowMs: 2, poolMs: 60_000 },
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  /** True while calls go through the pool (after a slow one). */
  get pooled(): boolean {
    return this.now() < this.poolUntil;
  }

  /**
   * `onLoop` (synchronous) while calls are fast, else `onPool`. Either way the result, or the error as a
   * rejection, comes back as a promise, so callers handle both alike.
   */
  run<T>(onLoop: () => T, onPool: () => Promise<T>): Promise<T> {
    if (this.pooled) return onPool();
    const started = this.now();
    try {
      return Promise.resolve(onLoop());
    } catch (err) {
      return Promise.reject(err);
    } finally {
      const ended = this.now();
      if (ended - started > this.opts.slowMs) this.poolUntil = ended + this.opts.poolMs;
    }
  }
}
