import type { EntityManager } from '@mikro-orm/postgresql';
import type { Rows, Statement } from './sql';
import { connectionPool, inlined, simpleQuery, type ConnectionPool, type PgConnection } from './raw-connection';

/**
 * A transaction whose statements travel in batches on a connection of its own: `BEGIN` rides with the
 * first batch and `COMMIT` with the last, so lock, check and write cost two round trips instead of four.
 * Each statement of a batch still takes its own snapshot (read committed), so a count sent after a lock
 * sees what committed while the lock was awaited. For hot paths: the ORM's unit of work is not involved,
 * rows come back as the database wrote them (`em.map` makes managed entities of them). Always `close()`.
 */
export class BatchedTransaction {
  private begun = false;
  private ended = false;
  private released = false;

  private constructor(
    private readonly em: EntityManager,
    private readonly pool: ConnectionPool,
    private readonly conn: PgConnection,
  ) {}

  static async open(em: EntityManager): Promise<BatchedTransaction> {
    const pool = connectionPool(em);
    return new BatchedTransaction(em, pool, (await pool.acquireConnection()) as PgConnection);
  }

  /** Runs the statements in the transaction (the first batch begins it); each one's rows, in order. */
  send(statements: readonly Statement[]): Promise<Rows[]> {
    return this.run(statements, false);
  }

  /** As send, then commits (a failure anywhere in the batch commits nothing). */
  commitWith(statements: readonly Statement[]): Promise<Rows[]> {
    return this.run(statements, true);
  }

  private async run(statements: readonly Statement[], commit: boolean): Promise<Rows[]> {
    if (this.ended || this.released) throw new Error('the transaction has ended');
    const lead = this.begun ? 0 : 1;
    const texts = [
      ...(this.begun ? [] : ['begin']),
      ...statements.map((s) => inlined(this.em, s)),
      ...(commit ? ['commit'] : []),
    ];
    this.begun = true;
    const rows = await simpleQuery(this.em, this.conn, texts);
    if (commit) this.ended = true;
    return rows.slice(lead, lead + statements.length);
  }

  /** Rolls back what was not committed and gives the connection back to the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      if (this.begun && !this.ended) await this.conn.query('rollback');
    } catch {
      // A connection that broke mid-transaction: the pool's validation drops it.
    } finally {
      this.pool.releaseConnection(this.conn);
    }
  }
}
