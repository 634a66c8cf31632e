import { mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { adminToken } from './admin';
import { startCluster, type Cluster } from './cluster';
import { runLoad, type LoadResult } from './load';
import { stopDg } from './processes';
import { Recorder } from './recorder';
import { drainJobs, problems, verify } from './verify';

/**
 * The fault runs: each starts a fresh deployment, puts the clinicians' load on it, injects one
 * fault FAULT_AT seconds in, then drains and runs the same end checks as the soak, plus what the
 * fault itself must show. Recovery is measured by the clinicians' own calls succeeding again.
 */
const FAULT_SECONDS = Number(process.env.SOAK_FAULT_SECONDS ?? 60);
const FAULT_AT = 15;
const DOWN_MS = 10_000;

export interface FaultOutcome {
  fault: string;
  expected: string;
  seen: string[];
  problems: string[];
  pass: boolean;
  figures: Record<string, unknown>;
}

interface Injected {
  seen: string[];
  /** What the fault itself required and did not get. */
  failed: string[];
  figures: Record<string, unknown>;
}

interface Fault {
  expected: string;
  filesBytes?: number;
  inject(c: Cluster, rec: Recorder): Promise<Injected>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Codes of the calls that ended between `from` and `to`, counted: `{ "INTERNAL_SERVER_ERROR": 12, "ok": 3 }`. */
function codesBetween(rec: Recorder, from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of rec.calls) if (c.end >= from && c.end <= to) out[c.code ?? 'ok'] = (out[c.code ?? 'ok'] ?? 0) + 1;
  return out;
}

/** Ms from `after` to the end of the first `op` call started after it that succeeded; null when none did. */
async function recovery(rec: Recorder, op: string, after: number, ms = 90_000): Promise<number | null> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = rec.calls.find((c) => c.op === op && c.start >= after && c.code === null);
    if (ok) return ok.end - after;
    if (Date.now() > end) return null;
    await sleep(250);
  }
}

/** The longest time any call took that ended inside the window (a hang shows here). */
const slowest = (rec: Recorder, from: number, to: number) =>
  Math.max(0, ...rec.calls.filter((c) => c.end >= from && c.end <= to).map((c) => c.end - c.start));

/** Polls a process's /readyz every 500 ms while `during` runs; the statuses seen. */
async function readyzWhile<T>(origin: string, during: Promise<T>): Promise<{ result: T; statuses: number[] }> {
  const statuses: number[] = [];
  let over = false;
  const poll = (async () => {
    while (!over) {
      statuses.push(
        await fetch(`${origin}/readyz`).then(
          (r) => r.status,
          () => 0,
        ),
      );
      await sleep(500);
    }
  })();
  const result = await during;
  over = true;
  await poll;
  return { result, statuses: [...new Set(statuses)] };
}

const exitedProcesses = (c: Cluster) =>
  c.processes().filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);

/** Stops a backing service for DOWN_MS and starts it again, measuring what clients and /readyz saw. */
async function restartService(c: Cluster, rec: Recorder, which: 'pg' | 'redis', op: string): Promise<Injected> {
  const svc = c[which];
  const from = Date.now();
  const { statuses } = await readyzWhile(
    c.api.origin,
    (async () => {
      await svc.stop(which === 'pg' ? 'SIGINT' : 'SIGTERM');
      await sleep(DOWN_MS);
    })(),
  );
  const restartedAt = Date.now();
  await svc.start();
  const recoveredMs = await recovery(rec, op, Date.now());
  rec.faults.push({ name: which, from, to: Date.now() + 5000 });
  const seen = [
    `while down ${DOWN_MS / 1000} s, calls ended with ${JSON.stringify(codesBetween(rec, from, restartedAt))}`,
    `api /readyz answered ${statuses.join(', ')}`,
    `slowest call in the window ${slowest(rec, from, restartedAt)} ms`,
    `first ${op} started after the restart succeeded ${recoveredMs ?? 'never'} ms later`,
  ];
  const failed: string[] = [];
  const dead = exitedProcesses(c);
  if (dead.length) failed.push(`processes exited: ${dead.map((p) => p.name).join(', ')}`);
  if (recoveredMs === null) failed.push(`no ${op} succeeded after the restart`);
  if (!statuses.includes(503)) failed.push('/readyz never answered 503 while it was down');
  return { seen, failed, figures: { statuses, recoveredMs, codes: codesBetween(rec, from, restartedAt) } };
}

async function jobsTakenOver(url: string): Promise<number> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    return (await pg.query(`select count(*)::int n from inference_jobs where attempts > 1`)).rows[0].n;
  } finally {
    await pg.end();
  }
}

/** Waits until at least `n` jobs are RUNNING (or `ms` passed); the number seen. */
async function runningJobsAtLeast(url: string, n: number, ms: number): Promise<number> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const end = Date.now() + ms;
    for (;;) {
      const running = (await pg.query(`select count(*)::int n from inference_jobs where status = 'RUNNING'`)).rows[0].n;
      if (running >= n || Date.now() > end) return running;
      await sleep(10);
    }
  } finally {
    await pg.end();
  }
}

async function filesIn(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [])).length;
}

export const FAULTS: Record<string, Fault> = {
  postgres: {
    expected:
      'PostgreSQL stopped (fast shutdown) for 10 s under load: calls answer at once with a GraphQL error code, /readyz 503; after the restart the api and workers reconnect by themselves; no partial rows, no job lost',
    inject: (c, rec) => restartService(c, rec, 'pg', 'uploadImages'),
  },
  redis: {
    expected:
      'Redis stopped for 10 s under load (append-only file, as docker-compose.yml runs it): calls answer with an error code, /readyz 503; after the restart the queue, pub/sub and rate limits work again by themselves; no job lost',
    async inject(c, rec) {
      const r = await restartService(c, rec, 'redis', 'classifyImage');
      const login = await adminToken(c.url, c.admin.email, c.admin.password).then(
        () => 'ok',
        (e: Error) => e.message,
      );
      r.seen.push(`sign-in (Redis rate limit) after the restart: ${login}`);
      if (login !== 'ok') r.failed.push('sign-in failed after the restart');
      return r;
    },
  },
  worker: {
    expected:
      'a worker SIGKILLed while running jobs: another worker takes its jobs over once their lock expires (JOB_LOCK_MS 5 s); each job finishes once, one result per image',
    async inject(c, rec) {
      // Killed while both workers run jobs (at least 3 RUNNING with 2 workers), so one is its.
      const busy = await runningJobsAtLeast(c.pg.url, c.workers.length + 1, 30_000);
      const victim = c.workers[0];
      const at = Date.now();
      await stopDg(victim, 'SIGKILL');
      rec.faults.push({ name: 'worker', from: at, to: at }); // clients see no failure from this
      await sleep(20_000);
      const taken = await jobsTakenOver(c.pg.url);
      return {
        seen: [`${victim.name} SIGKILLed with ${busy} jobs RUNNING; jobs with more than one attempt: ${taken}`],
        failed: taken ? [] : ['no job was taken over (none was running on the killed worker?)'],
        figures: { jobsTakenOver: taken },
      };
    },
  },
  api: {
    expected:
      'the api SIGTERMed under load: requests in flight finish, WebSocket clients get a clean close (1001) and resubscribe, the process exits 0; started again, the clients carry on',
    async inject(c, rec) {
      const at = Date.now();
      const t0 = performance.now();
      const { code, signal } = await stopDg(c.api, 'SIGTERM', 30_000);
      const exitMs = Math.round(performance.now() - t0);
      await c.startApi();
      const back = Date.now();
      const recoveredMs = await recovery(rec, 'uploadImages', back);
      rec.faults.push({ name: 'api', from: at, to: back + 5000 });
      // Calls sent before the SIGTERM that were still running then.
      const inFlight = rec.calls.filter((x) => x.start < at && x.end > at);
      const cut = inFlight.filter((x) => x.code === 'NETWORK' || x.code?.startsWith('HTTP_5'));
      return {
        seen: [
          `exit ${code ?? signal} after ${exitMs} ms`,
          `${inFlight.length} calls in flight at the SIGTERM: ${inFlight.length - cut.length} answered, ${cut.length} cut`,
          `restarted; first upload after it succeeded ${recoveredMs ?? 'never'} ms later`,
        ],
        failed: [
          ...(code === 0 ? [] : [`exit ${code ?? signal}, not 0`]),
          ...(cut.length ? [`${cut.length} in-flight calls cut: ${JSON.stringify(cut.slice(0, 5))}`] : []),
          ...(recoveredMs === null ? ['no upload succeeded after the restart'] : []),
        ],
        figures: { exitCode: code, exitMs, inFlight: inFlight.length, cut: cut.length, recoveredMs },
      };
    },
  },
  disk: {
    expected:
      'the file store (a 64 MiB tmpfs) filled up for 10 s: uploads refused with INSUFFICIENT_STORAGE, no image row and no staged file left; uploads work again once there is room',
    filesBytes: 64 * 2 ** 20,
    async inject(c, rec) {
      const files = path.join(c.dataDir, 'files');
      const filler = path.join(files, 'filler');
      const st = await statfs(files);
      await writeFile(filler, Buffer.alloc(Number(st.bavail) * st.bsize)).catch(() => undefined);
      const from = Date.now();
      await sleep(DOWN_MS);
      const full = rec.calls.filter((x) => x.op === 'uploadImages' && x.start >= from && x.end <= Date.now());
      const staged = await filesIn(path.join(files, 'tmp'));
      await rm(filler, { force: true });
      const freed = Date.now();
      const recoveredMs = await recovery(rec, 'uploadImages', freed);
      rec.faults.push({ name: 'disk', from, to: freed + 5000 });
      const codes = codesBetween(rec, from, freed);
      const uploadCodes = [...new Set(full.map((x) => x.code))];
      return {
        seen: [
          `while full, uploads ended with ${JSON.stringify(uploadCodes)} (all calls: ${JSON.stringify(codes)})`,
          `staged files left while full: ${staged}`,
          `first upload after freeing succeeded ${recoveredMs ?? 'never'} ms later`,
        ],
        failed: [
          ...(full.length === 0 ? ['no upload was tried while the disk was full'] : []),
          ...(uploadCodes.some((x) => x !== 'INSUFFICIENT_STORAGE')
            ? [`uploads while full answered ${JSON.stringify(uploadCodes)}, not only INSUFFICIENT_STORAGE`]
            : []),
          ...(staged ? [`${staged} staged files left`] : []),
          ...(recoveredMs === null ? ['no upload succeeded after freeing room'] : []),
        ],
        figures: { uploadCodes, codes, staged, recoveredMs },
      };
    },
  },
};

export async function runFault(
  name: string,
  opts: { users: number; workers: number; log: (l: string) => void },
): Promise<FaultOutcome> {
  const fault = FAULTS[name];
  const work = await mkdtemp(path.join(os.tmpdir(), `dg-soak-${name}-`));
  const cluster = await startCluster(work, { workers: opts.workers, filesBytes: fault.filesBytes });
  try {
    const rec = new Recorder();
    const load = runLoad(cluster, opts.users, FAULT_SECONDS, rec);
    await sleep(FAULT_AT * 1000);
    opts.log(`${name}: injecting`);
    const injected = await fault.inject(cluster, rec);
    const result: LoadResult = await load;
    opts.log(`${name}: load over; draining`);
    await drainJobs(cluster.pg.url);
    const verdict = await verify(cluster.url, cluster.pg.url, cluster.dataDir, result.ledger);
    const found = [...problems(verdict, rec.outsideFaults().length), ...injected.failed];
    return {
      fault: name,
      expected: fault.expected,
      seen: [
        ...injected.seen,
        `uploads accepted ${verdict.uploadsAccepted}, retrieved ${verdict.uploadsRetrievedByteForByte}; jobs ${verdict.jobsSubmitted}, succeeded ${verdict.jobsSucceeded}, failed ${verdict.jobsFailed.length}, unfinished ${verdict.jobsUnfinished.length}; WebSocket closes ${JSON.stringify(result.ledger.wsCloses)}`,
      ],
      problems: found,
      pass: found.length === 0,
      figures: { ...injected.figures, verdict, errorsByCode: rec.errorsByCode(), outside: rec.outsideFaults() },
    };
  } finally {
    await cluster.stop();
  }
}
