/**
 * An async iterator whose `return()` takes effect at once, even while a `next()` is pending.
 *
 * An async generator cannot do that: `return()` on a generator that is awaiting inside (say, the
 * next pub/sub event of a job that never publishes again) is queued until that await settles, so
 * what the generator holds (the pub/sub subscription) stays held. graphql-ws calls `return()` when
 * a client completes a subscription or its socket closes; this wrapper answers it at once:
 * `release` runs (unsubscribe there), every pending `next()` resolves `done`, and the source is
 * returned in the background (it ends by itself once `release` took its events away).
 *
 * `open` is called on the first `next()` (it may check access and throw: the error is the
 * stream's first result); a `return()` before the source is open closes it when it opens.
 */
export function closableStream<T>(
  open: () => AsyncIterator<T> | Promise<AsyncIterator<T>>,
  release?: () => unknown,
): AsyncIterableIterator<T> {
  const done: IteratorResult<T> = { value: undefined, done: true };
  let source: Promise<AsyncIterator<T>> | null = null;
  let closed = false;
  /** The callers of pending next()s: close() answers them `done`. */
  const waiting = new Set<(r: IteratorResult<T>) => void>();
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const answer of waiting) answer(done);
    waiting.clear();
    try {
      release?.();
    } catch {
      // Releasing is best effort: the source's own cleanup runs too.
    }
    source?.then((s) => s.return?.()).catch(() => undefined);
  };
  return {
    next(): Promise<IteratorResult<T>> {
      if (closed) return Promise.resolve(done);
      const opened = (source ??= Promise.resolve().then(open));
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiting.add(resolve);
        opened
          .then((s) => s.next())
          .then(
            (r) => {
              if (!waiting.delete(resolve)) return; // closed meanwhile: answered done already
              resolve(r);
              if (r.done) close();
            },
            (err: unknown) => {
              if (!waiting.delete(resolve)) return;
              reject(err);
              close();
            },
          );
      });
    },
    return(): Promise<IteratorResult<T>> {
      close();
      return Promise.resolve(done);
    },
    throw(err: unknown): Promise<IteratorResult<T>> {
      close();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
