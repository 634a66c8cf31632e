import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Client } from 'pg';
import { projectRoot } from '../src/infra/paths';
import { createFileStore } from '../src/infra/storage/file-store';
import { createBenchDatabase, report, type Row } from './harness';
import { spawnServe } from './serve-process';

const DATASET = path.join(projectRoot, 'datasets', 'isic-uda1', 'images');
const FLOOR = path.join(projectRoot, 'dist', 'bench', 'reports-floor.js');
/** BENCH_HEAVY=0 leaves out the 2 000-image masks ZIP. */
const HEAVY = process.env.BENCH_HEAVY !== '0';
/** Each server case runs this many times; a row shows the largest RSS rise of its runs. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));

const progress = (msg: string) => process.stderr.write(`  reports: ${msg}\n`);

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    // A stuck call fails the bench (which then stops its server and drops its database) instead of hanging it.
    signal: AbortSignal.timeout(10 * 60_000),
  });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 1000));
  return body.data;
}

async function uploadOne(url: string, token: string, patientId: string, file: Buffer): Promise<string> {
  const form = new FormData();
  const query = 'mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { id } }';
  form.append('operations', JSON.stringify({ query, variables: { p: patientId, f: [null] } }));
  form.append('map', JSON.stringify({ 0: ['variables.f.0'] }));
  form.append('0', new Blob([file]), 'lesion.jpg');
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
  return body.data.uploadImages[0].id;
}

/** The process's resident set in KiB; NaN once it is gone. */
async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Runs `work` while sampling `pid`'s RSS every 50 ms: RSS just before, the peak, and the seconds it took. */
async function sampled<T>(pid: number, work: () => Promise<T>) {
  const before = await rssKiB(pid);
  let peak = before;
  const sample = async () => {
    const r = await rssKiB(pid);
    if (Number.isFinite(r)) peak = Math.max(peak, r);
  };
  const sampler = setInterval(() => void sample(), 50);
  const t0 = process.hrtime.bigint();
  try {
    const result = await work();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await sample();
    return { result, seconds, beforeMB: before / 1024, riseMB: (peak - before) / 1024 };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Clones the one real image (and its latest prediction and segmentation: the same stored files) into
 * `count - 1` more image rows, in SQL: every column copied but the ids, so each row is what a real
 * upload, classification and segmentation of the same file would have stored.
 */
async function cloneImages(databaseUrl: string, imageId: string, count: number): Promise<string[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const columns = async (table: string) =>
      (
        await db.query<{ column_name: string }>(
          `select column_name from information_schema.columns where table_schema = current_schema() and table_name = $1 order by ordinal_position`,
          [table],
        )
      ).rows.map((r) => r.column_name);
    const imageCols = (await columns('images')).filter((c) => c !== 'id');
    const ids = (
      await db.query<{ id: string }>(
        `insert into images (id, ${imageCols.join(', ')})
         select gen_random_uuid(), ${imageCols.map((c) => (c === 'created_at' ? `created_at + g * interval '1 ms'` : c)).join(', ')}
           from images, generate_series(1, $2::int) g where id = $1 returning id`,
        [imageId, count - 1],
      )
    ).rows.map((r) => r.id);
    for (const table of ['predictions', 'segmentations']) {
      const cols = (await columns(table)).filter((c) => c !== 'id' && c !== 'image_id');
      await db.query(
        `insert into ${table} (id, image_id, ${cols.join(', ')})
         select gen_random_uuid(), n.id, ${cols.map((c) => `t.${c}`).join(', ')}
           from (select * from ${table} where image_id = $1 order by created_at desc limit 1) t, unnest($2::uuid[]) n(id)`,
        [imageId, ids],
      );
    }
    return [imageId, ...ids];
  } finally {
    await db.end();
  }
}

/** The raw floor in a fresh process: zipStream over the same mask file `count` times, RSS sampled. */
async function floor(mask: string, count: number, out: string): Promise<Row> {
  const child = spawn(process.execPath, ['--expose-gc', FLOOR, mask, String(count), out], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== 'ready') throw new Error('reports-floor did not start');
  const run = await sampled(child.pid!, async () => {
    child.stdin!.write('go\n');
    const line = await lines.next();
    return JSON.parse(String(line.value)) as { bytes: number; entries: number; liveBytesPerEntry: number | null };
  });
  // It waits for its stdin to close before exiting, so the last sample above saw it alive.
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end();
  await exited;
  await fs.rm(out, { force: true });
  return {
    case: `raw floor: zipStream ${count} masks from disk`,
    images: count,
    bytes: run.result.bytes,
    seconds: run.seconds,
    'RSS before MB': run.beforeMB,
    'RSS rise MB': run.riseMB,
    'live heap KB/entry': run.result.liveBytesPerEntry === null ? null : run.result.liveBytesPerEntry / 1024,
  };
}

/**
 * generateReport through the real server (HTTP GraphQL, REPORT jobs on the embedded queue, PostgreSQL,
 * file store) on 500 seeded images, with the server's RSS sampled every 50 ms; against the raw floor of
 * a masks ZIP (zipStream over the same files straight from disk, in a process of its own), in the same
 * run. Masks ZIPs of 100 and 500 (and 2 000) images show whether memory grows with the image count.
 */
export async function reportsBench(): Promise<void> {
  const counts = process.env.BENCH_MASKS
    ? process.env.BENCH_MASKS.split(',').map(Number)
    : HEAVY
      ? [100, 500, 2000]
      : [100, 500];
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-bench-reports-'));
  const database = await createBenchDatabase('reports');
  const server = await spawnServe(
    {
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ALLOW_UNVERIFIED_LOGIN: '1',
      JOB_WAIT_TIMEOUT_MS: '600000',
      REPORT_INLINE_MAX_IMAGES: '0',
    },
    120_000,
  );
  const pid = server.child.pid!;
  progress(`server ready (pid ${pid})`);
  try {
    const email = `bench-${process.pid}@example.test`;
    const password = `Bench-${randomUUID()}`;
    await gql(server.url, 'mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password } });
    const login = await gql(
      server.url,
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
      { e: email, p: password },
    );
    const token = login.login.accessToken as string;
    const call = (q: string, v: Record<string, unknown> = {}) => gql(server.url, q, v, token);
    const patient = await call(
      'mutation { createPatient(input: { externalId: "BENCH-1", displayName: "Bench" }) { id } }',
    );
    const [first] = (await fs.readdir(DATASET)).filter((n) => n.endsWith('.jpg')).sort();
    const imageId = await uploadOne(
      server.url,
      token,
      patient.createPatient.id,
      await fs.readFile(path.join(DATASET, first)),
    );
    const classify = await call('mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { status error } }', {
      id: imageId,
    });
    const segment = await call(
      'mutation($ids: [ID!]!) { segmentImages(imageIds: $ids, members: [{ model: "dg-seg-stats" }], wait: true) { status error } }',
      { ids: [imageId] },
    );
    if (classify.classifyImage.status !== 'SUCCEEDED' || segment.segmentImages.status !== 'SUCCEEDED')
      throw new Error(`seeding failed: ${JSON.stringify([classify, segment])}`);
    progress('one image uploaded, classified and segmented');
    const imageIds = await cloneImages(database.url, imageId, Math.max(...counts));
    const mask = createFileStore(dataDir).path(await maskOf(database.url, imageId));

    const generate = async (kind: string, n: number) => {
      const q = `mutation($i: ReportInput!) { generateReport(input: $i, wait: true) { id status bytes error imageCount } }`;
      const r = (await call(q, { i: { kind, imageIds: imageIds.slice(0, n) } })).generateReport;
      if (r.status !== 'DONE') throw new Error(`${kind} of ${n}: ${JSON.stringify(r)}`);
      return r as { bytes: number; imageCount: number };
    };
    // Warm: the first report of each kind loads its code, fonts and the overlays' cache.
    for (const kind of ['MASKS_ZIP', 'CSV', 'PDFS_ZIP']) await generate(kind, 2);

    const cases: Array<[string, number]> = [
      ...counts.map((n): [string, number] => ['MASKS_ZIP', n]),
      ['CSV', 500],
      ['PDFS_ZIP', 20],
    ];
    const rows: Row[] = [];
    const byCase = new Map<string, Row>();
    for (let round = 0; round < ROUNDS; round++)
      for (const [kind, n] of cases) {
        progress(`round ${round + 1}: ${kind} of ${n} images`);
        const run = await sampled(pid, () => generate(kind, n));
        const key = `${kind} ${n}`;
        const seen = byCase.get(key);
        if (!seen || Number(seen['RSS rise MB']) < run.riseMB)
          byCase.set(key, {
            case: `server: generateReport ${kind}`,
            images: n,
            bytes: run.result.bytes,
            seconds: run.seconds,
            'RSS before MB': run.beforeMB,
            'RSS rise MB': run.riseMB,
          });
      }
    rows.push(...byCase.values());
    const floors = new Map<number, Row>();
    progress('raw floor');
    for (const n of counts) floors.set(n, await floor(mask, n, path.join(dataDir, `floor-${n}.zip`)));
    rows.push(...floors.values());
    const rise = (key: string) => Number(byCase.get(key)!['RSS rise MB']);
    const floorRise = (n: number) => Number(floors.get(n)!['RSS rise MB']);
    const biggest = Math.max(...counts);
    report({
      bench: 'reports',
      description: `generateReport (wait: true, as a REPORT job in the server process) on seeded copies of one really classified and segmented image, server RSS sampled every 50 ms (rise = peak - RSS just before; the largest of ${ROUNDS} rounds), vs the raw floor: zipStream of the same mask file from disk in a fresh process, same run`,
      rows,
      summary: {
        [`masks ZIP RSS rise, ${biggest} vs 100 images, MB`]: rise(`MASKS_ZIP ${biggest}`) - rise('MASKS_ZIP 100'),
        'masks ZIP RSS rise, 500 vs 100 images, MB': rise('MASKS_ZIP 500') - rise('MASKS_ZIP 100'),
        'raw floor RSS rise, 500 vs 100 files, MB': floorRise(500) - floorRise(100),
        'masks ZIP 500: server RSS rise / raw floor RSS rise': rise('MASKS_ZIP 500') / floorRise(500),
        'masks ZIP 500: server seconds / raw floor seconds':
          Number(byCase.get('MASKS_ZIP 500')!.seconds) / Number(floors.get(500)!.seconds),
      },
    });
  } finally {
    await server.stop();
    await database.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function maskOf(databaseUrl: string, imageId: string): Promise<string> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const r = await db.query<{ mask_sha256: string }>('select mask_sha256 from segmentations where image_id = $1', [
      imageId,
    ]);
    return r.rows[0].mask_sha256;
  } finally {
    await db.end();
  }
}
