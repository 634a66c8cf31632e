/** Per-name mutual exclusion: the mutations of one model name run one at a time, in call order. */
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

  /** Resolves once the mutations started so far have ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
