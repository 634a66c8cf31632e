import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/server/logger';
import { startServer, type RunningServer } from '../src/server/start';
import { Image, ImageFormat, Patient, User } from '../src/entities';
import { projectRoot } from '../src/paths';
import { batchShape, imageToTensor } from '../src/inference/preprocess';
import { featureMapAt, camToImage } from '../src/inference/cam-map';
import { gradCam, loadGradCamHead } from '../src/inference/gradcam';
import { heatmapPng } from '../src/inference/render';
import { encodeMap } from '../src/jobs/files';
import { createBenchDatabase, mean, quantile, report, type Row } from './harness';

/**
 * End-to-end inference through the server vs the bare pipeline, in one process:
 * - e2e: classifyImage over HTTP GraphQL (auth, checks, quota, job row, in-process queue,
 *   preprocessing, dynamic batching, run, persist, progress event) until its `done` event;
 * - bare: sharp decode + resize + normalise and onnxruntime-node session.run in a loop, same
 *   model and threads, same number of concurrent loops.
 * Also Grad-CAM's cost against the inference it explains, and a two-member segmentation
 * ensemble against its slowest member.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODEL = 'dg-gap-classifier';
const NAMES = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154', 'ISIC_0000184'];
const IMAGES = NAMES.map((n) => path.join(projectRoot, 'datasets/isic-uda1/images', `${n}.jpg`));

interface Sample {
  latencies: number[];
  seconds: number;
}

/** `loops` concurrent loops calling `once` for SECONDS (after a short warm-up). */
async function loopsFor(loops: number, once: (i: number) => Promise<void>, seconds = SECONDS): Promise<Sample> {
  for (let i = 0; i < 10; i++) await once(i);
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await once(n++);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

const row = (name: string, concurrency: number, s: Sample): Row => ({
  pipeline: name,
  concurrency,
  'img/s': s.latencies.length / s.seconds,
  'p50 ms': quantile(s.latencies, 0.5),
  'p95 ms': quantile(s.latencies, 0.95),
  n: s.latencies.length,
});

async function e2eJobId(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data: Record<string, { id: string }> };
  return Object.values(body.data)[0].id;
}

async function seed(server: RunningServer): Promise<{ token: string; imageIds: string[] }> {
  const auth = server.services.auth.auth;
  const email = `bench-${randomUUID().slice(0, 8)}@example.test`;
  const password = `Pw-${randomUUID()}`;
  const meta = { ip: '198.51.100.7', userAgent: 'bench' };
  const em = server.services.db.orm.em.fork();
  const created = await auth.register(em, { email, password }, meta);
  const user = await em.findOneOrFail(User, { id: created.id });
  user.emailVerifiedAt = new Date();
  await em.flush();
  const login = await auth.login(em.fork(), email, password, meta);
  const patient = em.create(Patient, { owner: user.id, externalId: 'BENCH-1', displayName: 'Bench' } as never) as Patient;
  const imageIds: string[] = [];
  for (const file of IMAGES) {
    const bytes = await readFile(file);
    const put = await server.services.inference.files.putBuffer(bytes);
    const meta2 = await sharp(bytes).metadata();
    const image = em.create(Image, { patient, uploadedBy: user.id, sha256: put.sha256, format: ImageFormat.JPEG, mimeType: 'image/jpeg', byteSize: bytes.length, width: meta2.width!, height: meta2.height! } as never) as Image;
    imageIds.push(image.id);
  }
  await em.flush();
  return { token: login.accessToken!, imageIds };
}

export async function inferenceBench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dg-bench-inference-'));
  const database = await createBenchDatabase('inference');
  const dbUrl = database.url;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: dbUrl,
    REDIS_URL: '',
    JOB_MODE: 'inline',
    JOB_CONCURRENCY: '8',
    QUOTA_FREE_PREDICTIONS_PER_MONTH: '10000000',
  });
  const server = await startServer(config, { logger: createLogger(config) });
  try {
    const { token, imageIds } = await seed(server);
    const url = server.url.replace('localhost', '127.0.0.1');
    const inference = server.services.inference;
    /** One client request: the mutation over HTTP, then its progress until `done`. */
    const e2e = async (mutation: string, variables: Record<string, unknown>) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: mutation, variables }) });
      const body = (await res.json()) as { data?: Record<string, { id: string }>; errors?: unknown };
      if (!body.data) throw new Error(`request failed: ${JSON.stringify(body.errors)}`);
      const jobId = Object.values(body.data)[0].id;
      for await (const e of inference.progress.stream(jobId)) {
        if (e.stage === 'failed') throw new Error(`job failed: ${e.message}`);
      }
    };
    const classify = `mutation($imageId: ID!, $models: [EnsembleMemberInput!], $explain: Boolean) { classifyImage(imageId: $imageId, models: $models, explain: $explain) { id } }`;
    const segment = `mutation($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!) { segmentImages(imageIds: $imageIds, members: $members) { id } }`;

    // The bare pipeline on its own session of the same file, with the manifest's threads.
    const lease = server.services.models.acquire(MODEL);
    const m = lease.manifest;
    const modelPath = path.join(server.services.models.versionInfo(MODEL, lease.version)!.packageDir, m.modelFile);
    lease.release();
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: m.threads.intraOp, interOpNumThreads: m.threads.interOp, graphOptimizationLevel: 'all' });
    const bytes = await Promise.all(IMAGES.map((f) => readFile(f)));
    const bare = async (i: number) => {
      const { tensor } = await imageToTensor(bytes[i % bytes.length], m.input);
      await session.run({ [m.input.name]: new ort.Tensor('float32', tensor, batchShape(1, m.input)) });
    };

    const rows: Row[] = [];
    const ratios: Record<string, number> = {};
    // The API's own floor: an authenticated GraphQL query over HTTP that reads one row.
    const probe = await e2eJobId(url, token, classify, { imageId: imageIds[0], models: [{ model: MODEL }], explain: false });
    const floor = async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: 'query($id: ID!) { job(id: $id) { id status } }', variables: { id: probe } }) });
      await res.json();
    };
    for (const c of [1, 8]) {
      // Interleaved so machine noise hits both alike.
      const b = await loopsFor(c, bare);
      const e = await loopsFor(c, (i) => e2e(classify, { imageId: imageIds[i % imageIds.length], models: [{ model: MODEL }], explain: false }));
      const ex = await loopsFor(c, (i) => e2e(classify, { imageId: imageIds[i % imageIds.length], models: [{ model: MODEL }], explain: true }));
      const f = await loopsFor(c, floor);
      rows.push(row('bare: sharp + session.run', c, b), row('e2e classifyImage (explain=false)', c, e), row('e2e classifyImage (Grad-CAM)', c, ex), row('API floor: job(id) query over HTTP', c, f));
      ratios[`throughput ratio e2e/bare at concurrency ${c} (explain=false)`] = e.latencies.length / e.seconds / (b.latencies.length / b.seconds);
      ratios[`throughput ratio e2e/bare at concurrency ${c} (Grad-CAM)`] = ex.latencies.length / ex.seconds / (b.latencies.length / b.seconds);
    }

    // Grad-CAM's own cost vs the inference it explains (same image, same session, one at a time).
    const features = m.outputs.find((o) => o.role === 'gradcam_features')!.name;
    const logits = m.outputs.find((o) => o.role === 'logits')!.name;
    const plan = loadGradCamHead(await readFile(modelPath), features, logits);
    if (!plan.differentiable) throw new Error(plan.reason);
    const inferMs: number[] = [];
    const camMs: number[] = [];
    const mathMs: number[] = [];
    const pngMs: number[] = [];
    const storeMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const { tensor } = await imageToTensor(bytes[i % bytes.length], m.input);
      const out = await session.run({ [m.input.name]: new ort.Tensor('float32', tensor, batchShape(1, m.input)) });
      const t1 = performance.now();
      const fm = featureMapAt(out[features].data as Float32Array, out[features].dims, 0);
      const cam = gradCam(plan.head, fm);
      const map = camToImage(cam.cam, cam.width, cam.height, 250, 250, { mode: m.input.resize, modelWidth: m.input.width, modelHeight: m.input.height });
      const tm = performance.now();
      await server.services.inference.files.putBuffer(encodeMap(map, 250, 250)); // what the job stores
      const t2 = performance.now();
      await heatmapPng(map, 250, 250); // rendered on the first request of heatmapUrl, then cached
      const t3 = performance.now();
      if (i >= 20) {
        inferMs.push(t1 - t0);
        mathMs.push(tm - t1);
        storeMs.push(t2 - tm);
        pngMs.push(t3 - t2);
        camMs.push(t2 - t1);
      }
    }
    rows.push({ pipeline: 'inference (decode+resize+run), 1 image', concurrency: 1, 'img/s': null, 'p50 ms': quantile(inferMs, 0.5), 'p95 ms': quantile(inferMs, 0.95), n: inferMs.length });
    rows.push({ pipeline: 'Grad-CAM math (head backprop + map to image)', concurrency: 1, 'img/s': null, 'p50 ms': quantile(mathMs, 0.5), 'p95 ms': quantile(mathMs, 0.95), n: mathMs.length });
    rows.push({ pipeline: 'Grad-CAM map into the file store', concurrency: 1, 'img/s': null, 'p50 ms': quantile(storeMs, 0.5), 'p95 ms': quantile(storeMs, 0.95), n: storeMs.length });
    rows.push({ pipeline: 'Grad-CAM in the job (math + store map)', concurrency: 1, 'img/s': null, 'p50 ms': quantile(camMs, 0.5), 'p95 ms': quantile(camMs, 0.95), n: camMs.length });
    rows.push({ pipeline: 'heatmap PNG, rendered on first request (250x250)', concurrency: 1, 'img/s': null, 'p50 ms': quantile(pngMs, 0.5), 'p95 ms': quantile(pngMs, 0.95), n: pngMs.length });
    await session.release();

    // Two-member segmentation ensemble vs each member alone (e2e, one image per job, one at a time).
    // Interleaved rounds so load from elsewhere on the machine falls on all three alike.
    const seg = (members: Array<{ model: string }>) => loopsFor(1, (i) => e2e(segment, { imageIds: [imageIds[i % imageIds.length]], members }), SECONDS / ROUNDS);
    const merge = (xs: Sample[]): Sample => ({ latencies: xs.flatMap((x) => x.latencies), seconds: xs.reduce((t, x) => t + x.seconds, 0) });
    const runs: Sample[][] = [[], [], []];
    for (let round = 0; round < ROUNDS; round++) {
      runs[0].push(await seg([{ model: 'dg-seg-stats' }]));
      runs[1].push(await seg([{ model: 'dg-seg-skin-distance' }]));
      runs[2].push(await seg([{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }]));
    }
    const [a, bm, both] = runs.map(merge);
    rows.push(row('e2e segment dg-seg-stats', 1, a), row('e2e segment dg-seg-skin-distance', 1, bm), row('e2e segment ensemble of both', 1, both));
    const slowest = Math.max(quantile(a.latencies, 0.5), quantile(bm.latencies, 0.5));

    report({
      bench: 'inference',
      description: `end-to-end classifyImage (${MODEL}) vs the bare pipeline in the same process and run (${SECONDS} s per row); Grad-CAM cost; segmentation ensemble vs its slowest member`,
      rows,
      summary: {
        ...ratios,
        'Grad-CAM overhead in the job, % of inference (p50)': (100 * quantile(camMs, 0.5)) / quantile(inferMs, 0.5),
        'Grad-CAM math only, % of inference (p50)': (100 * quantile(mathMs, 0.5)) / quantile(inferMs, 0.5),
        'heatmap PNG on first request, % of inference (p50)': (100 * quantile(pngMs, 0.5)) / quantile(inferMs, 0.5),
        'Grad-CAM overhead in the job, % of inference (mean)': (100 * mean(camMs)) / mean(inferMs),
        'ensemble p50 / slowest member p50': quantile(both.latencies, 0.5) / slowest,
      },
    });
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await database.drop();
  }
}
