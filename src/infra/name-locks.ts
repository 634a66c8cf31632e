/** Per-name mutual exclusion within this process: what runs under one name runs one at a time, in call order. */
export class NameLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(name, tail);
    void tail.then(() => {
      if (this.tails.get(name) === tail) this.tails.delete(name);
    });
    return run;
  }

  /** run under every one of `names`, taken in sorted order, so two callers asking for overlapping sets cannot deadlock. */
  runAll<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
    return [...new Set(names)].sort().reduceRight<() => Promise<T>>((inner, name) => () => this.run(name, inner), fn)();
  }

  /** Resolves once what started so far has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
