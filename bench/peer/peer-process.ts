import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';
import { freePort } from '../free-port';

/** Debian's interpreter, where python3-torch and python3-fastapi are installed (not the pyenv one first on PATH). */
export const PEER_PYTHON = process.env.BENCH_PEER_PYTHON ?? '/usr/bin/python3';

export interface PeerProcess {
  child: ChildProcess;
  url: string;
  /** torch.get_num_threads() in the peer. */
  threads: number;
  /** Python, torch, FastAPI and uvicorn versions. */
  versions: string;
  stop(): Promise<void>;
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
  const { health, stop } = await awaitHealth<{ threads: number; versions: string }>(
    'peer',
    child,
    `http://127.0.0.1:${port}`,
    timeoutMs,
  );
  return { child, url: `http://127.0.0.1:${port}`, threads: health.threads, versions: health.versions, stop };
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
): Promise<{ health: T; stop(): Promise<void> }> {
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
      return { health: (await (await fetch(`${url}/health`)).json()) as T, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await stop();
  throw new Error(`${what} not ready in ${timeoutMs} ms:\n${logs.join('')}`);
}
