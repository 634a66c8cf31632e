/**
 * The persisted floor: the least any service must do to answer the peer's job and keep the answer, written
 * as directly as Node allows. Run by the peer bench as a process of its own (bench/peer/floor-process.ts), never
 * by the product. Per request: HTTP, the multipart body (busboy), the file hashed and written (a temp file
 * renamed into place), one sharp decode + resize, onnxruntime-node on the same model with Grad-CAM through its
 * head (the server's own functions), and one SQL statement that checks the caller's session and stores the
 * image's, the job's and the prediction's rows (the Grad-CAM map in it) and the month's usage. No GraphQL, no ORM,
 * no access rules, no quotas, no progress events, no probe before the decode, no audit.
 *
 * Environment: FLOOR_PORT, FLOOR_DATABASE_URL (a database of its own: it makes its tables), FLOOR_DIR (files).
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import busboy from 'busboy';
import * as ort from 'onnxruntime-node';
import { Pool } from 'pg';
import { featureMapAt } from '../../src/inference/cam-map';
import { gradCam, loadGradCamHead } from '../../src/inference/gradcam';
import { batchShape, imageToTensor } from '../../src/inference/preprocess';
import { softmax } from '../../src/inference/softmax';
import { storedMap } from '../../src/modules/jobs/cam-map-file';
import { MANIFEST, MODEL_DIR } from './flows';

const MAX_BYTES = 25 * 1024 * 1024;

const TABLES = `
  create table if not exists floor_sessions (id uuid primary key, user_id uuid not null, expires_at timestamptz not null);
  create table if not exists floor_images (id uuid primary key, created_at timestamptz not null, user_id uuid not null,
    sha256 text not null, byte_size int not null, original_name text);
  create table if not exists floor_jobs (id uuid primary key, created_at timestamptz not null, user_id uuid not null,
    status text not null, request jsonb not null);
  create table if not exists floor_predictions (id uuid primary key, created_at timestamptz not null, job_id uuid not null
    references floor_jobs, image_id uuid not null references floor_images, label text not null, confidence real not null,
    probabilities jsonb not null, cam_sha256 text, cam bytea);
  create table if not exists floor_usage (user_id uuid not null, month date not null, uploads int not null default 0,
    predictions int not null default 0, primary key (user_id, month));`;

/** One statement: nothing is stored for a session that is not live (the answer has no row then). */
const STORE = `with s as (select user_id from floor_sessions where id = $1 and expires_at > now()),
  i as (insert into floor_images select $2, now(), s.user_id, $3, $4, $5 from s returning id, user_id),
  j as (insert into floor_jobs select $6, now(), i.user_id, 'SUCCEEDED', $7 from i returning id),
  p as (insert into floor_predictions select $8, now(), j.id, i.id, $9, $10, $11, $12, $13 from i, j returning id),
  u as (insert into floor_usage select i.user_id, date_trunc('month', now())::date, 1, 1 from i
    on conflict (user_id, month) do update set uploads = floor_usage.uploads + 1, predictions = floor_usage.predictions + 1)
  select id from p`;

/** The uploaded file's bytes (the part named `file`), at most MAX_BYTES. */
function readFilePart(req: http.IncomingMessage): Promise<{ bytes: Buffer; name: string }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let name = '';
    const bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: MAX_BYTES } });
    bb.on('file', (_field, stream, info) => {
      name = info.filename ?? '';
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('limit', () => reject(new Error('file too large')));
    });
    bb.on('close', () =>
      parts.length ? resolve({ bytes: Buffer.concat(parts), name }) : reject(new Error('no file')),
    );
    bb.on('error', reject);
    req.pipe(bb);
  });
}

async function main(): Promise<void> {
  const dir = process.env.FLOOR_DIR!;
  const pool = new Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 10 });
  await pool.query(TABLES);
  const session = randomUUID();
  await pool.query(`insert into floor_sessions values ($1, $2, now() + interval '1 day')`, [session, randomUUID()]);
  const modelFile = path.join(MODEL_DIR, MANIFEST.modelFile);
  const model = await ort.InferenceSession.create(modelFile, {
    intraOpNumThreads: MANIFEST.threads.intraOp,
    interOpNumThreads: MANIFEST.threads.interOp,
    graphOptimizationLevel: 'all',
  });
  const plan = loadGradCamHead(readFileSync(modelFile), 'features', 'logits');
  if (!plan.differentiable) throw new Error(`the floor needs a Grad-CAM head: ${plan.reason}`);
  const shape = batchShape(1, MANIFEST.input);

  const predict = async (req: http.IncomingMessage, explain: boolean, sessionId: string) => {
    const { bytes, name } = await readFilePart(req);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const folder = path.join(dir, sha256.slice(0, 2));
    const temp = path.join(dir, `.${randomUUID()}`);
    await writeFile(temp, bytes);
    // The folder made only when the rename finds it missing: one trip through the thread pool fewer.
    await rename(temp, path.join(folder, sha256)).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      await mkdir(folder, { recursive: true });
      await rename(temp, path.join(folder, sha256));
    });
    const { tensor } = await imageToTensor(bytes, MANIFEST.input);
    const out = await model.run({ [MANIFEST.input.name]: new ort.Tensor('float32', tensor, shape) });
    const probabilities = softmax(out.logits.data as Float32Array);
    const best = probabilities.indexOf(Math.max(...probabilities));
    let cam: { bytes: Buffer; sha256: string } | null = null;
    if (explain) {
      const fm = featureMapAt(out.features.data as Float32Array, out.features.dims, 0);
      const r = gradCam(plan.head, fm, { targetClass: best });
      cam = storedMap({ cam: r.cam, camWidth: r.width, camHeight: r.height, width: r.width, height: r.height });
    }
    const byLabel = Object.fromEntries(MANIFEST.labels.map((l, i) => [l, probabilities[i]]));
    const stored = await pool.query(STORE, [
      sessionId,
      randomUUID(),
      sha256,
      bytes.length,
      name,
      randomUUID(),
      JSON.stringify({ explain, model: MANIFEST.modelFile }),
      randomUUID(),
      MANIFEST.labels[best],
      probabilities[best],
      JSON.stringify(byLabel),
      cam?.sha256 ?? null,
      cam?.bytes ?? null,
    ]);
    if (stored.rowCount !== 1) return { status: 401, body: { error: 'no live session' } };
    const answer = { label: MANIFEST.labels[best], confidence: probabilities[best], probabilities: byLabel };
    return { status: 200, body: { ...answer, predictionId: stored.rows[0].id, gradcam: cam?.sha256 ?? null } };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://floor');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/health') return reply(200, { ok: true, session });
    if (req.method !== 'POST' || url.pathname !== '/predict') return reply(404, { error: 'not found' });
    const sessionId = url.searchParams.get('session') ?? '';
    predict(req, url.searchParams.get('explain') !== 'false', sessionId).then(
      (r) => reply(r.status, r.body),
      (e: Error) => reply(400, { error: e.message }),
    );
  });
  server.listen(Number(process.env.FLOOR_PORT), '127.0.0.1');
  process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
