import { assertOutsideTransaction } from './transaction-guard';

/** Starts a queued task. The default runs it on the next turn of the event loop, after the answer. */
export type Scheduler = (start: () => void) => void;

export const nextTurn: Scheduler = (start) => void setImmediate(start);

/**
 * Work done after a request has answered (account look-ups, mailed links, mail delivery), so that
 * the answer neither waits for it nor shows in its timing whether an account exists. Tasks are
 * tracked: `drain()` waits for them (tests, shutdown). A failure is logged, never thrown to a client.
 */
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly logger: { error(o: object, m?: string): void },
    private readonly schedule: Scheduler = nextTurn,
  ) {}

  /** Queues `work`. Refused inside a transaction: the task would run on a connection of its own. */
  run(label: string, work: () => Promise<unknown>): void {
    assertOutsideTransaction(`background task "${label}"`);
    const task = new Promise<void>((start) => this.schedule(start)).then(work).then(
      () => undefined,
      (err: Error) => this.logger.error({ err, task: label }, 'background task failed'),
    );
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Tasks queued and not yet finished. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves once every task queued so far, and every task those queued, has finished. */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
