import 'reflect-metadata';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { report } from '../harness';
import { startCluster } from './cluster';
import { FAULTS, runFault, type FaultOutcome } from './faults';
import { overTime, runLoad } from './load';
import { drainJobs, problems, verify } from './verify';

/**
 * `npm run soak`: SOAK_USERS clinicians (20) and an admin hot-swapping models for SOAK_SECONDS (180)
 * against a private PostgreSQL + Redis, one api in queue mode and SOAK_WORKERS workers (2); then the
 * end checks. `npm run soak -- faults [name ...]` (or SOAK_FAULTS=a,b) runs the fault runs instead,
 * each on a fresh deployment. A benchmark: it measures and prints, writing bench/results/soak*.json;
 * it exits 1 only when an end check or a fault's expectation failed.
 */
const USERS = Number(process.env.SOAK_USERS ?? 20);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 2);

const log = (line: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function steady(): Promise<boolean> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'dg-soak-'));
  log(`starting PostgreSQL, Redis, the api and ${WORKERS} workers in ${work}`);
  const cluster = await startCluster(work, { workers: WORKERS });
  try {
    log(`${USERS} clinicians and an admin for ${SECONDS} s against ${cluster.url}`);
    const load = await runLoad(cluster, USERS, SECONDS);
    log('load over; waiting for queued jobs, then the end checks');
    await drainJobs(cluster.pg.url);
    const verdict = await verify(cluster.url, cluster.pg.url, cluster.dataDir, load.ledger);
    const outside = load.rec.outsideFaults();
    const failed = problems(verdict, outside.length);
    const ops = load.rec.operations();
    const done = (op: string) => Number(ops.find((o) => o.operation === op)?.ok ?? 0);
    report({
      bench: 'soak',
      description: `${USERS} clinicians (upload, classify with Grad-CAM, segment, reports; subscriptions open) and an admin hot-swapping the classifier, ${Math.round(load.seconds)} s, api + ${WORKERS} workers on private PostgreSQL and Redis`,
      rows: ops,
      summary: {
        'uploads accepted': verdict.uploadsAccepted,
        'uploads retrieved byte for byte': verdict.uploadsRetrievedByteForByte,
        'jobs submitted': verdict.jobsSubmitted,
        'jobs succeeded': verdict.jobsSucceeded,
        'jobs lost (never finished)': verdict.jobsUnfinished.length,
        'jobs failed': verdict.jobsFailed.length,
        'duplicated results': verdict.duplicatedResults,
        'subscriptions with their final event': `${verdict.subscriptionsWithFinalEvent} of ${verdict.subscriptionsWithFinalEvent + verdict.subscriptionsWithoutFinalEvent.length}`,
        'hot swaps (activations and rollbacks)': load.swaps,
        'WebSocket closes seen by clients (by code)': JSON.stringify(load.ledger.wsCloses),
        'uploads per s': done('uploadImages') / load.seconds,
        'jobs per s (classify + segment to DONE)':
          (done('classify job (to DONE event)') + done('segment job (to DONE event)')) / load.seconds,
        'server failures outside faults': outside.length,
        'errors by code': JSON.stringify(load.rec.errorsByCode()),
        'end checks': failed.length ? failed.join('; ') : 'all passed',
      },
    });
    const mem = overTime(load.samples);
    report({
      bench: 'soak-processes',
      description: 'RSS and event-loop delay (p99 of prom-client) per process over the soak, sampled every 5 s',
      rows: mem,
      summary: { samples: JSON.stringify(load.samples) },
    });
    if (failed.length) log(`END CHECKS FAILED: ${JSON.stringify({ failed, verdict, outside }).slice(0, 4000)}`);
    return failed.length === 0;
  } finally {
    await cluster.stop();
  }
}

async function faults(names: string[]): Promise<boolean> {
  const outcomes: FaultOutcome[] = [];
  for (const name of names) {
    log(`fault run: ${name}`);
    outcomes.push(await runFault(name, { users: USERS, workers: WORKERS, log }));
    const o = outcomes.at(-1)!;
    log(
      `${name}: ${o.pass ? 'PASS' : 'FAIL'}\n  seen: ${o.seen.join('\n  seen: ')}\n  problems: ${o.problems.join('; ') || 'none'}`,
    );
  }
  report({
    bench: 'soak-faults',
    description: `fault runs under load (${USERS} clinicians, admin hot-swapping; api + ${WORKERS} workers on private PostgreSQL and Redis)`,
    rows: outcomes.map((o) => ({
      fault: o.fault,
      expected: o.expected,
      seen: o.seen.join('; '),
      'end checks': o.problems.length ? o.problems.join('; ') : 'all passed',
      result: o.pass ? 'PASS' : 'FAIL',
    })),
    summary: { details: JSON.stringify(outcomes.map((o) => ({ fault: o.fault, ...o.figures }))) },
  });
  return outcomes.every((o) => o.pass);
}

// A client library's stray rejection (a socket dying with the api under a fault) is reported, not fatal:
// the run must reach its end checks and stop every process it started.
process.on('unhandledRejection', (reason) => log(`unhandled rejection in the soak client: ${String(reason)}`));

async function main() {
  const args = process.argv.slice(2);
  const wanted = args[0] === 'faults' ? args.slice(1) : (process.env.SOAK_FAULTS?.split(',').filter(Boolean) ?? null);
  if (args[0] === 'faults' || wanted) {
    const names = wanted?.length ? wanted : Object.keys(FAULTS);
    const unknown = names.filter((n) => !(n in FAULTS));
    if (unknown.length)
      throw new Error(`unknown fault ${unknown.join(', ')}; known: ${Object.keys(FAULTS).join(', ')}`);
    return faults(names);
  }
  return steady();
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(2);
  },
);
