import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './logger';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite (PostgreSQL compiled to WASM) served over the PostgreSQL wire protocol on a loopback port,
 * so the embedded mode uses the same driver, dialect and migrations as a real server.
 * PGlite is a single session: the client pool must hold one connection, or one connection's
 * transaction would swallow another's statements.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const dir = path.join(dataDir, 'pglite');
  await fs.mkdir(dir, { recursive: true });
  // Loaded only in embedded mode: PGlite is large, and its bundle must not load in processes that use PostgreSQL.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  const started = Date.now();
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:PORT"
  logger.info({ dir, conn, ms: Date.now() - started }, 'embedded PostgreSQL (PGlite) listening on loopback');
  return {
    url: `postgresql://postgres:postgres@${conn}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
