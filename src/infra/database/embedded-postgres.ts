import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockDataDir } from './data-dir-lock';
import { startPgliteThread } from './pglite-thread';
import type { Logger } from '../observability/logger';

export interface EmbeddedPostgres {
  url: string;
  /** The Unix socket the database listens on (0600, in a 0700 folder). */
  socket: string;
  stop(): Promise<void>;
}

/** The port number only names the socket file (`.s.PGSQL.5432`), as PostgreSQL's clients expect. */
const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
/** sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included. */
const MAX_SOCKET_PATH = 103;

/**
 * Where the socket lives: DATA_DIR/pglite-socket, or a private temporary folder when that path would be
 * too long for a Unix socket. Either way a folder only this user may enter (0700).
 */
export function socketFolder(dataDir: string): { dir: string; temporary: boolean } {
  const preferred = path.join(dataDir, 'pglite-socket');
  if (Buffer.byteLength(path.join(preferred, SOCKET_NAME)) <= MAX_SOCKET_PATH) {
    fs.mkdirSync(preferred, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(preferred);
    if (!st.isDirectory()) throw new Error(`${preferred} must be a folder`);
    fs.chmodSync(preferred, 0o700); // an existing folder keeps its mode otherwise
    return { dir: preferred, temporary: false };
  }
  const base =
    Buffer.byteLength(path.join(os.tmpdir(), 'dg-pg-XXXXXX', SOCKET_NAME)) <= MAX_SOCKET_PATH ? os.tmpdir() : '/tmp';
  return { dir: fs.mkdtempSync(path.join(base, 'dg-pg-')), temporary: true }; // mkdtemp makes it 0700
}

/**
 * PGlite (PostgreSQL compiled to WASM) served over the PostgreSQL wire protocol, so the embedded mode
 * uses the same driver, dialect and migrations as a real server. It runs on a thread of its own
 * (pglite-thread.ts), so the API and the database use two cores.
 * - PGlite is a single session: the client pool must hold one connection, or one connection's
 *   transaction would swallow another's statements.
 * - PGlite has no authentication, so it listens on a Unix socket (0600 in a 0700 folder), never on a
 *   TCP port: only this user can connect, which the file system enforces.
 * - PGlite has no postmaster lock either: DATA_DIR is locked for this process's life (data-dir-lock.ts),
 *   so a second process (create-admin, migrate) beside a running server is refused instead of
 *   writing into a copy of the database that the server later overwrites.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const lock = lockDataDir(dataDir);
  const undo: Array<() => Promise<unknown> | unknown> = [() => lock.release()];
  let stopping: Promise<void> | null = null;
  const cleanup = () =>
    (stopping ??= (async () => {
      for (const step of undo.reverse())
        await Promise.resolve()
          .then(step)
          .catch(() => undefined);
    })());
  try {
    const dir = path.join(dataDir, 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    const started = Date.now();
    const folder = socketFolder(dataDir);
    const socket = path.join(folder.dir, SOCKET_NAME);
    undo.push(() =>
      folder.temporary ? fs.rmSync(folder.dir, { recursive: true, force: true }) : fs.rmSync(socket, { force: true }),
    );
    fs.rmSync(socket, { force: true }); // left by a crashed run; we hold the lock, so it is not in use
    // A database that dies under a running server loses every later statement: say so loudly, once.
    const thread = await startPgliteThread(dir, socket, (reason) =>
      logger.error({ reason }, 'embedded PostgreSQL (PGlite) thread ended unexpectedly'),
    );
    undo.push(() => thread.stop());
    fs.chmodSync(socket, 0o600);
    logger.info({ dir, socket, ms: Date.now() - started }, 'embedded PostgreSQL (PGlite) listening on a Unix socket');
    return {
      // node-postgres takes a socket folder as the host and finds `.s.PGSQL.<port>` in it.
      url: `postgresql://postgres@${encodeURIComponent(folder.dir)}:${SOCKET_PORT}/postgres`,
      socket,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
