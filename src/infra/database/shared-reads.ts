import type { EntityManager } from '@mikro-orm/postgresql';
import type { Rows, Statement } from './sql';
import { connectionPool, inlined, simpleQuery, type ConnectionPool, type PgConnection } from './raw-connection';

interface Waiting {
  statements: readonly Statement[];
  settle(results: Array<Rows | Error>): void;
}

/** Statements per round trip at most: a burst of requests' reads is sent in parts of this size. */
const MAX_STATEMENTS = 64;

/**
 * Reads of concurrent requests in one round trip, for a database reached through one connection (embedded mode:
 * PGlite is one session, so the pool holds one connection). There every statement of every request waits for
 * that connection, and under load it is held nearly all the time, mostly by requests' short reads (the session,
 * the access check), each of which also waits for this process's event loop to take its answer before the
 * connection is free again. Here reads queue instead: whoever takes the connection sends every read queued by then
 * as one simple query and hands each caller its rows. With the connection free, a read goes at once, alone.
 *
 * For reads outside a transaction only (coalescedRead sends them here). Each statement takes its own snapshot, as
 * read alone; when a round trip fails, its statements run again one by one, so each caller gets its own answer or
 * error.
 */
export class SharedReads {
  private readonly queue: Waiting[] = [];
  private draining = false;

  constructor(
    private readonly em: EntityManager,
    private readonly pool: ConnectionPool,
  ) {}

  /** Each statement's rows, or its error, in order. */
  run(statements: readonly Statement[]): Promise<Array<Rows | Error>> {
    return new Promise((settle) => {
      this.queue.push({ statements, settle });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        let conn: unknown;
        try {
          conn = await this.pool.acquireConnection();
        } catch (err) {
          // No connection (the database gone, the pool's timeout): every read waiting gets the error.
          for (const w of this.queue.splice(0)) w.settle(w.statements.map(() => err as Error));
          continue;
        }
        try {
          const taken = this.take();
          const results = await this.send(
            conn as PgConnection,
            taken.flatMap((w) => w.statements),
          );
          let at = 0;
          for (const w of taken) w.settle(results.slice(at, (at += w.statements.length)));
        } finally {
          this.pool.releaseConnection(conn);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Whole callers' reads from the head of the queue, up to MAX_STATEMENTS (at least one caller's). */
  private take(): Waiting[] {
    let n = 0;
    let k = 0;
    while (k < this.queue.length && (k === 0 || n + this.queue[k].statements.length <= MAX_STATEMENTS))
      n += this.queue[k++].statements.length;
    return this.queue.splice(0, k);
  }

  private async send(conn: PgConnection, statements: readonly Statement[]): Promise<Array<Rows | Error>> {
    const texts = statements.map((s) => inlined(this.em, s));
    try {
      return await simpleQuery(this.em, conn, texts);
    } catch (err) {
      if (texts.length === 1) return [err as Error];
      const out: Array<Rows | Error> = [];
      for (const t of texts)
        out.push(
          await simpleQuery(this.em, conn, [t]).then(
            ([rows]) => rows,
            (e: Error) => e,
          ),
        );
      return out;
    }
  }
}

const shared = new WeakMap<ConnectionPool, SharedReads>();

/** From now on, reads through coalescedRead on `em`'s database (any of its forks) outside a transaction share round trips. */
export function shareReads(em: EntityManager): void {
  shared.set(connectionPool(em), new SharedReads(em, connectionPool(em)));
}

/** The database's SharedReads when shareReads was called for it. */
export function sharedReadsOf(em: EntityManager): SharedReads | undefined {
  return shared.get(connectionPool(em));
}
