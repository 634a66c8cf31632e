import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { freePort } from '../free-port';

/** Debian's interpreter, where python3-torch and python3-fastapi are installed (not the pyenv one first on PATH). */
export const PEER_PYTHON = process.env.BENCH_PEER_PYTHON ?? '/usr/bin/python3';

/** A service the bench started as a child process and reaches over HTTP. */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

export interface PeerProcess extends ServiceProcess {
  /** torch.get_num_threads() in the peer. */
  threads: number;
  /** Python, torch, FastAPI and uvicorn versions. */
  versions: string;
}

/**
 * bench/peer/peer_service.py under uvicorn as a seed would run it (one process, default logging), resolving
 * once /health answers.
 */
export async function startPeer(timeoutMs = 120_000): Promise<PeerProcess> {
  const port = await freePort();
  const child = spawn(
    PEER_PYTHON,
    ['-m', 'uvicorn', '--app-dir', path.join(projectRoot, 'bench', 'peer'), 'peer_service:app', '--port', String(port)],
    { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }, stdio: 'pipe' },
  );
  const { health, ...service } = await awaitHealth<{ threads: number; versions: string }>(
    'peer',
    child,
    `http://127.0.0.1:${port}`,
    timeoutMs,
  );
  return { ...service, threads: health.threads, versions: health.versions };
}

/**
 * Waits until the service `child` started answers GET `${url}/health` (its JSON), keeping its last output for the
 * error when it exits or does not answer in time (then it is stopped); `stop` ends it with SIGTERM.
 */
export async function awaitHealth<T>(
  what: string,
  child: ChildProcess,
  url: string,
  timeoutMs: number,
): Promise<ServiceProcess & { health: T }> {
  const logs: string[] = [];
  const keep = (d: Buffer) => {
    logs.push(String(d));
    if (logs.length > 50) logs.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${logs.join('')}`);
    try {
      return { child, url, health: (await (await fetch(`${url}/health`)).json()) as T, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await stop();
  throw new Error(`${what} not ready in ${timeoutMs} ms:\n${logs.join('')}`);
}
