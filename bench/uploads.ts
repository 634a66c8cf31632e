import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { projectRoot } from '../src/infra/paths';
import { createBenchDatabase, report, type Row } from './harness';
import { spawnServe } from './serve-process';

const DATASET = path.join(projectRoot, 'datasets', 'isic-uda1', 'images');

/** Bytes after a JPEG's EOI marker are ignored by decoders but change the sha256: every upload is new content. */
const unique = (jpeg: Buffer, n: number) => Buffer.concat([jpeg, Buffer.from(`bench-${n}-${randomUUID()}`)]);

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function upload(url: string, token: string, patientId: string, files: Buffer[]): Promise<void> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: 'mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { id } }',
      variables: { p: patientId, f: files.map(() => null) },
    }),
  );
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.f.${i}`]]))));
  files.forEach((f, i) => form.append(String(i), new Blob([f]), `img-${i}.jpg`));
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
}

/** Runs `total` jobs with `clients` workers; returns jobs per second. */
async function throughput(total: number, clients: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < total; i = next++) await job(i);
    }),
  );
  return total / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** The same work without the server: hash, write the original, read the header, make both derived copies, write them. */
async function rawWork(dir: string, data: Buffer): Promise<void> {
  const sha = createHash('sha256').update(data).digest('hex');
  const file = path.join(dir, sha);
  await fs.writeFile(file, data);
  await sharp(file).metadata();
  const base = sharp(file, { failOn: 'truncated' }).rotate().toColourspace('srgb');
  const [n, t] = await Promise.all([
    base.clone().resize(2048, 2048, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 90 }).toBuffer(),
    base.clone().resize(256, 256, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer(),
  ]);
  await fs.writeFile(`${file}.n`, n);
  await fs.writeFile(`${file}.t`, t);
}

/**
 * A 4000x3000 camera-like JPEG: a real lesion image scaled up with sensor-like noise (sigma 6), so it
 * compresses like a photograph (about 2.7 MB at q92) rather than a smooth upscale (0.3 MB).
 */
async function largeJpeg(seed: Buffer): Promise<Buffer> {
  const base = await sharp(seed).resize(4000, 3000, { fit: 'fill' }).raw().toBuffer();
  const noise = await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 6 },
    },
  })
    .raw()
    .toBuffer();
  for (let i = 0; i < base.length; i++) base[i] = Math.max(0, Math.min(255, base[i] + noise[i] - 128));
  return sharp(base, { raw: { width: 4000, height: 3000, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/**
 * uploadImages end to end (HTTP multipart, streamed staging, sha256, sharp decode + derived copies,
 * file store, PostgreSQL rows), one file per request, against the raw cost of the same image work
 * in this process; then the server's RSS while one request uploads a 50 MB and a 200 MB batch.
 */
export async function uploadsBench(): Promise<void> {
  const names = (await fs.readdir(DATASET)).filter((n) => n.endsWith('.jpg')).sort();
  const small = await Promise.all(names.slice(0, 64).map((n) => fs.readFile(path.join(DATASET, n))));
  const large = await largeJpeg(small[0]);

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-bench-uploads-'));
  const rawDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-bench-raw-'));
  const database = await createBenchDatabase('uploads');
  const server = await spawnServe(
    {
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ALLOW_UNVERIFIED_LOGIN: '1',
      UPLOAD_MAX_FILES: '200',
      UPLOAD_MAX_FILE_BYTES: String(64 * 1024 * 1024),
      QUOTA_FREE_UPLOADS_PER_MONTH: '10000000',
    },
    120_000,
  );
  try {
    const email = `bench-${process.pid}@example.test`;
    const password = `Bench-${randomUUID()}`;
    await gql(server.url, 'mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password } });
    const token = (
      await gql(server.url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
        e: email,
        p: password,
      })
    ).login.accessToken as string;
    const patientId = (
      await gql(
        server.url,
        'mutation { createPatient(input: { externalId: "BENCH", displayName: "Bench" }) { id } }',
        {},
        token,
      )
    ).createPatient.id as string;

    let n = 0;
    const rows: Row[] = [];
    const cases = [
      {
        size: '250x250',
        base: (i: number) => small[i % small.length],
        total: { 1: 120, 8: 240 } as Record<number, number>,
      },
      { size: '4000x3000', base: () => large, total: { 1: 10, 8: 24 } as Record<number, number> },
    ];
    for (const c of cases) {
      for (const clients of [1, 8]) {
        const total = c.total[clients];
        await upload(server.url, token, patientId, [unique(c.base(0), n++)]); // warm
        const server_ = await throughput(total, clients, (i) =>
          upload(server.url, token, patientId, [unique(c.base(i), n++)]),
        );
        const raw = await throughput(total, clients, (i) => rawWork(rawDir, unique(c.base(i), n++)));
        rows.push({
          image: c.size,
          bytes: c.size === '250x250' ? small[0].length : large.length,
          clients,
          uploads: total,
          'server uploads/s': server_,
          'raw work/s': raw,
          'server / raw': server_ / raw,
        });
      }
    }

    // Memory while streaming: one request per batch, RSS sampled every 50 ms.
    const memRows: Row[] = [];
    const baseline = await rssKiB(server.child.pid!);
    for (const mb of [50, 200]) {
      const count = Math.ceil((mb * 1024 * 1024) / large.length);
      const files = Array.from({ length: count }, () => unique(large, n++));
      const bytes = files.reduce((a, f) => a + f.length, 0);
      const before = await rssKiB(server.child.pid!);
      let peak = before;
      const sampler = setInterval(
        () =>
          void rssKiB(server.child.pid!).then(
            (r) => (peak = Math.max(peak, r)),
            () => undefined,
          ),
        50,
      );
      const t0 = Date.now();
      await upload(server.url, token, patientId, files);
      clearInterval(sampler);
      memRows.push({
        batch: `${count} x 4000x3000 JPEG`,
        'batch MB': bytes / 1024 / 1024,
        seconds: (Date.now() - t0) / 1000,
        'RSS before MB': before / 1024,
        'RSS peak MB': peak / 1024,
        'peak - before MB': (peak - before) / 1024,
      });
    }
    report({
      bench: 'uploads',
      description:
        'uploadImages end to end, one file per request, vs the same image work (hash, write, sharp metadata + normalised and thumbnail copies) without the server, same run; then server RSS during one 50 MB and one 200 MB batch request',
      rows: [...rows, ...memRows],
      summary: {
        'server RSS at start MB': baseline / 1024,
        'RSS growth 200 MB batch vs 50 MB batch MB':
          Number(memRows[1]['peak - before MB']) - Number(memRows[0]['peak - before MB']),
      },
    });
  } finally {
    await server.stop();
    await database.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(rawDir, { recursive: true, force: true });
  }
}
