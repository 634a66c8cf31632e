import { Worker } from 'node:worker_threads';

/**
 * PGlite and its wire-protocol server on a thread of their own. PGlite runs PostgreSQL's engine as
 * WASM on the thread that owns it; on the main thread every statement's planning and execution
 * stalls requests, WebSockets and the model runs' bookkeeping, and a busy server can use only one
 * core for both. On a thread, the API and the database run side by side, the way a real server's
 * backend runs beside the API process.
 */
export interface PgliteThread {
  /** Closes the socket server, then PGlite (which flushes the database to DATA_DIR), then the thread. */
  stop(): Promise<void>;
}

type Reply = { ready: true } | { stopped: true } | { error: string };

// The thread's code, plain CommonJS (evaluated, so it runs the same from src under jest and from dist).
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.socketServer);
let db = null;
let server = null;
(async () => {
  db = await PGlite.create(workerData.dir);
  server = new PGLiteSocketServer({ db, path: workerData.socket, maxConnections: 1 });
  await server.start();
  parentPort.postMessage({ ready: true });
})().catch((err) => parentPort.postMessage({ error: String((err && err.stack) || err) }));
parentPort.on('message', async (msg) => {
  if (msg !== 'stop') return;
  try {
    if (server) await server.stop();
    if (db) await db.close();
    parentPort.postMessage({ stopped: true });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.stack) || err) });
  }
});
`;

/**
 * Starts PGlite on `dir` serving the Unix socket `socket` (one connection: PGlite is one session) and
 * resolves once it listens. `onExit` hears of a thread that ends without being stopped (a crash).
 */
export function startPgliteThread(
  dir: string,
  socket: string,
  onExit: (reason: string) => void,
): Promise<PgliteThread> {
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      dir,
      socket,
      pglite: require.resolve('@electric-sql/pglite'),
      socketServer: require.resolve('@electric-sql/pglite-socket'),
    },
  });
  let stopping = false;
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        worker.off('exit', onEarlyExit);
        resolve(m);
      };
      const onEarlyExit = (code: number) => {
        worker.off('message', onMessage);
        reject(new Error(`the PGlite thread exited with code ${code}`));
      };
      worker.once('message', onMessage);
      worker.once('exit', onEarlyExit);
    });
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      const reply = next();
      worker.postMessage('stop');
      const r = await reply;
      if ('error' in r) throw new Error(r.error);
    } finally {
      await worker.terminate();
    }
  };
  return next().then(
    async (r) => {
      if ('error' in r) {
        stopping = true;
        await worker.terminate();
        throw new Error(r.error);
      }
      worker.on('error', (err) => onExit(String(err.stack ?? err)));
      worker.on('exit', (code) => {
        if (!stopping) onExit(`exit code ${code}`);
      });
      return { stop };
    },
    async (err) => {
      stopping = true;
      await worker.terminate();
      throw err;
    },
  );
}
