import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../src/infra/paths';

export const CLI = path.join(projectRoot, 'dist', 'src', 'cli.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  logs: string[];
  /** Milliseconds from spawn to the "dermagraph ready" log line. */
  readyMs: number;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs the built `dermagraph serve` as `npm start` does and resolves once it logs that it is ready. */
export function spawnServe(
  env: Record<string, string>,
  timeoutMs = 60_000,
  extraNodeArgs: string[] = [],
): Promise<ServeProcess> {
  const started = process.hrtime.bigint();
  // BENCH_SERVE_NODE_ARGS: node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile
  // a bench's server (NODE_OPTIONS does not allow --cpu-prof).
  const nodeArgs = [...(process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean), ...extraNodeArgs];
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
    // DOTENV_PATH: a developer's .env in the repository must not change what is measured or tested.
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const stop = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.removeAllListeners('exit');
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    child.stderr!.on('data', (d) => logs.push(String(d)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${logs.join('\n')}`));
    });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === 'dermagraph ready') {
        clearTimeout(timer);
        const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
        resolve({ child, url: entry.url!.replace('localhost', '127.0.0.1'), logs, readyMs, stop });
      }
    });
  });
}
