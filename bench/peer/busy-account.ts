import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { projectRoot } from '../../src/infra/paths';
import { report, type Row } from '../harness';
import { gql } from './client';
import { serverFlows, type Flow } from './flows';
import { signUpWithPatient, startServerUnderTest, type ServerUnderTest } from './server';
import { runWindow, warmUp, type Window } from './window';

/**
 * The one-image flows for an account with a busy month behind it against a fresh account, on one server, in
 * interleaved windows: what a request costs must not grow with the account's history. The busy account gets
 * BENCH_HISTORY (default 20000, the PRO plan's monthly uploads) images, jobs and predictions made this month,
 * copies of its own first ones written straight into the database (the API would take minutes to make them).
 */
const HISTORY = Number(process.env.BENCH_HISTORY ?? 20000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_PEER_SECONDS ?? 2);
const CLIENTS = 8;
const IMAGE = path.join(projectRoot, 'datasets', 'isic-uda1', 'images', 'ISIC_0000150.jpg');
const FLOWS = /^server: (uploadImages \+ classify, wait, Grad-CAM|uploadImages only)$/;
const DASHBOARD = `query BenchDashboard { myDashboard { totalUploads totalPredictions totalPatients uploadQuota { used } } }`;

/** The account's dashboard (all-time totals and the month's quotas): one request counts as one "image". */
function dashboardFlow(s: ServerUnderTest): Flow {
  return {
    name: 'server: myDashboard',
    runs: 'server',
    ref: null,
    span: 1,
    async once() {
      const d = (await gql(s.url, DASHBOARD, {}, s.token)).myDashboard;
      if (!(d.totalUploads >= d.uploadQuota.used && d.totalPatients >= 1))
        throw new Error(`myDashboard answered ${JSON.stringify(d)}`);
      return 1;
    },
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export async function busyAccountBench(): Promise<void> {
  const image = await fs.readFile(IMAGE);
  const server = await startServerUnderTest('postgresql');
  const rows: Row[] = [];
  try {
    const fresh = server;
    const busy: ServerUnderTest = { ...server, ...(await signUpWithPatient(server.url)) };
    const flowsOf = async (s: ServerUnderTest) => [
      ...(await serverFlows(s, image)).filter((f) => FLOWS.test(f.name)),
      dashboardFlow(s),
    ];
    const accounts = [
      { name: 'fresh', flows: await flowsOf(fresh) },
      { name: `busy (${HISTORY} this month)`, flows: await flowsOf(busy) },
    ];
    // Warmed up on the fresh account (the code is the same for both; its thousand or so rows stay far below the busy
    // one's); the busy account's flows are called alone, so a failing one stops here.
    for (const f of accounts[0].flows) await warmUp(f.once);
    for (const f of accounts[1].flows) await warmUp(f.once, 0);
    await writeHistory(busy, HISTORY);
    const targets = { roots: [server.pid], database: server.database };
    const windows = new Map<string, Window[]>();
    for (let round = 0; round < ROUNDS; round++)
      for (const a of accounts)
        for (const f of a.flows) {
          process.stderr.write(`  round ${round + 1}/${ROUNDS} ${a.name} ${f.name}\n`);
          const w = await runWindow(CLIENTS, SECONDS, targets, f.once);
          const key = `${a.name}|${f.name}`;
          windows.set(key, [...(windows.get(key) ?? []), w]);
        }
    const measured = (a: string, f: Flow) => {
      const ws = windows.get(`${a}|${f.name}`)!;
      const images = sum(ws.map((w) => w.images));
      return {
        rate: images / sum(ws.map((w) => w.seconds)),
        api: sum(ws.map((w) => w.cpu.serviceMs)) / images,
        pg: sum(ws.map((w) => w.cpu.postgresMs)) / images,
      };
    };
    for (const f of accounts[0].flows) {
      const base = measured(accounts[0].name, f);
      for (const a of accounts) {
        const m = measured(a.name, f);
        rows.push({
          flow: f.name.replace(/^server: /, ''),
          account: a.name,
          clients: CLIENTS,
          'img/s': m.rate,
          'vs fresh': m.rate / base.rate,
          'API CPU ms/img': m.api,
          'PostgreSQL CPU ms/img': m.pg,
          'PostgreSQL vs fresh': m.pg / base.pg,
        });
      }
    }
  } finally {
    await server.stop();
  }
  report({
    bench: 'busy-account',
    description: `the one-image flows and myDashboard (a request of it counts as an image) (npm start, production, PostgreSQL) of an account with ${HISTORY} images, jobs and predictions this month against a fresh account's, on one server, ${ROUNDS} interleaved rounds of ${SECONDS} s windows at c=${CLIENTS}; CPU per image from /proc (the server's process tree, its database's PostgreSQL processes). A ratio near 1 means a request's cost does not grow with the account's history`,
    rows,
    summary: { 'history rows per table': HISTORY, 'load average at end': os.loadavg()[0] },
  });
}

/**
 * `n` copies of the account's latest prediction, with its job and image, each with new ids and a time earlier
 * this month, and the month's usage row moved on as the server would have: a month of one-image classifications.
 */
async function writeHistory(account: ServerUnderTest, n: number): Promise<void> {
  const db = new Client({ connectionString: account.databaseUrl });
  await db.connect();
  try {
    const [latest] = (
      await db.query(
        `select p.id, p.job_id, p.image_id, p.owner_id from predictions p
         where p.owner_id = (select owner_id from patients where id = $1) order by p.created_at desc limit 1`,
        [account.patientId],
      )
    ).rows;
    if (!latest) throw new Error('the busy account has no prediction to copy');
    await db.query('begin');
    // Spread over the month so far, newest first (never before its first day).
    await db.query(
      `create temp table history on commit drop as
       select gen_random_uuid() as image_id, gen_random_uuid() as job_id, gen_random_uuid() as prediction_id,
         now() - (now() - date_trunc('month', now())) * g / ($1::int + 1) as at
       from generate_series(1, $1::int) g`,
      [n],
    );
    const copy = (table: string, id: string, set: string) =>
      db.query(
        `insert into ${table} select (jsonb_populate_record(null::${table}, to_jsonb(t) || jsonb_build_object(${set}, 'created_at', h.at, 'updated_at', h.at))).*
         from history h, (select * from ${table} where id = $1) t`,
        [id],
      );
    await copy('images', latest.image_id, `'id', h.image_id`);
    await copy('inference_jobs', latest.job_id, `'id', h.job_id`);
    await copy('predictions', latest.id, `'id', h.prediction_id, 'job_id', h.job_id, 'image_id', h.image_id`);
    await db.query(
      `update prediction_usage set uploads = uploads + $2, count = count + $2
       where owner_id = $1 and month = date_trunc('month', now() at time zone 'UTC')::date`,
      [latest.owner_id, n],
    );
    await db.query('commit');
    await db.query('analyze');
  } finally {
    await db.end();
  }
}
