import type { EntityManager } from '@mikro-orm/postgresql';
import type { Rows, Statement } from './sql';

interface PgResult {
  rows: Rows;
}
/** The driver's connection (node-postgres): text without parameters goes as one simple query. */
export interface PgConnection {
  query(text: string): Promise<PgResult | PgResult[]>;
}

/** The ORM's connection pool (knex's client), for code that holds a connection of its own across round trips. */
export interface ConnectionPool {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): unknown;
}

export const connectionPool = (em: EntityManager): ConnectionPool =>
  em.getConnection().getKnex().client as ConnectionPool;

/** A statement with its parameters written in, as the ORM writes them, for a simple query. */
export const inlined = (em: EntityManager, s: Statement): string => em.getPlatform().formatQuery(s.sql, s.params);

/**
 * `texts` as one simple query on `conn` (one round trip): each statement's rows, in order. A failure is the
 * driver's exception, as the ORM converts it.
 */
export async function simpleQuery(em: EntityManager, conn: PgConnection, texts: readonly string[]): Promise<Rows[]> {
  let res: PgResult | PgResult[];
  try {
    res = await conn.query(texts.join(';\n'));
  } catch (err) {
    throw em.getDriver().convertException(err as Error);
  }
  return (Array.isArray(res) ? res : [res]).map((r) => r.rows);
}
