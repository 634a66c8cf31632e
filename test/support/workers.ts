import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestServer } from './server';

/** Scaled-out mode in tests: `dermagraph worker` processes (the built CLI) beside a test server. */
const root = path.resolve(__dirname, '../..');

/**
 * Spawns a worker on the server's PostgreSQL, Redis prefix and DATA_DIR; resolves once it is
 * ready. `track` collects it so the test can kill what it started (by PID) at the end.
 */
export function startWorkerProcess(
  server: TestServer,
  name: string,
  track: ChildProcess[],
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(root, 'dist/src/cli.js'), 'worker'], {
    cwd: root,
    env: {
      ...process.env,
      // A developer's .env in the repository must not change what the test runs.
      DOTENV_PATH: '/dev/null',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: server.config.DATABASE_URL,
      REDIS_URL: server.config.REDIS_URL,
      REDIS_PREFIX: server.config.REDIS_PREFIX,
      DATA_DIR: server.dataDir,
      JOB_LOCK_MS: '2000',
      JOB_CONCURRENCY: '1',
      SHUTDOWN_TIMEOUT_MS: '10000',
      // Its /healthz, /readyz and /metrics on a free port: several workers (and test files) run at once.
      WORKER_HTTP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track.push(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} not ready:\n${log}`)), 60_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      if (log.includes('dermagraph worker ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited with ${code}:\n${log}`));
    });
  });
}

export const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

/** SIGKILLs the workers still running (only the ones this test started). */
export function killWorkers(track: ChildProcess[]): void {
  for (const w of track) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
}
