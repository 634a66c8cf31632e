import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../src/infra/paths';

const CLI = path.join(projectRoot, 'dist', 'src', 'cli.js');

/** One `dermagraph serve` or `dermagraph worker` of the soak, with where its /metrics answer. */
export interface DgProcess {
  name: string;
  kind: 'api' | 'worker';
  child: ChildProcess;
  /** http://127.0.0.1:<port> of the process (the api's PORT, the worker's WORKER_HTTP_PORT). */
  origin: string;
  /** The last 200 log lines. */
  tail: string[];
  /** Log lines at level error (50) or above, counted over the process's life. */
  errorLines: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns the built CLI (as `npm start` and `npm run worker` run it, without a .env) and resolves
 * once it logs that it is ready; rejects with its output if it exits first or stays silent 120 s.
 */
export function startDg(name: string, kind: 'api' | 'worker', env: Record<string, string>): Promise<DgProcess> {
  const child = spawn(process.execPath, [CLI, kind === 'api' ? 'serve' : 'worker'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const proc: DgProcess = { name, kind, child, origin: '', tail: [], errorLines: 0, exit };
  const readyMsg = kind === 'api' ? 'dermagraph ready' : 'dermagraph worker ready';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${proc.tail.join('\n')}`)), 120_000);
    let pending = '';
    const onData = (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        proc.tail.push(line);
        if (proc.tail.length > 200) proc.tail.shift();
        // Only the lines that matter are parsed: the soak's api logs every request.
        if (!line.includes(readyMsg) && !/"level":[56]0/.test(line)) continue;
        let entry: { msg?: string; level?: number; url?: string; httpPort?: number };
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if ((entry.level ?? 0) >= 50) proc.errorLines++;
        if (entry.msg !== readyMsg || proc.origin) continue;
        proc.origin =
          kind === 'api'
            ? new URL(entry.url!.replace('localhost', '127.0.0.1')).origin
            : `http://127.0.0.1:${entry.httpPort}`;
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    // SOAK_LOG_DIR=<dir>: every line each process printed, kept for a look after the run.
    if (process.env.SOAK_LOG_DIR) {
      mkdirSync(process.env.SOAK_LOG_DIR, { recursive: true });
      const file = createWriteStream(path.join(process.env.SOAK_LOG_DIR, `${name}-${child.pid}.log`));
      child.stdout!.pipe(file);
      child.stderr!.pipe(file);
    }
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!proc.origin) reject(new Error(`${name} exited (${code ?? signal}):\n${proc.tail.join('\n')}`));
    });
  });
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs` when it is still there. */
export async function stopDg(p: DgProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exit;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const result = await p.exit;
  clearTimeout(timer);
  return result;
}

/** One sample of a process's resident memory and event-loop delay (its own /metrics, prom-client's defaults). */
export interface ProcessSample {
  t: number;
  process: string;
  rssMiB: number;
  eventLoopP99Ms: number | null;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

function metric(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export async function sampleProcess(p: DgProcess, t0: number): Promise<ProcessSample | null> {
  if (!p.child.pid || p.child.exitCode !== null || p.child.signalCode !== null) return null;
  const rss = await rssMiB(p.child.pid).catch(() => NaN);
  const text = await fetch(`${p.origin}/metrics`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.text(),
    () => '',
  );
  const lag = metric(text, 'dermagraph_nodejs_eventloop_lag_p99_seconds');
  return {
    t: Math.round((Date.now() - t0) / 1000),
    process: p.name,
    rssMiB: Math.round(rss),
    eventLoopP99Ms: lag === null ? null : Math.round(lag * 10000) / 10,
  };
}
