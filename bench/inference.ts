import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as inspector from 'node:inspector/promises';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadConfig } from '../src/infra/config';
import { createLogger } from '../src/infra/observability/logger';
import { startServer, type RunningServer } from '../src/app/start';
import { Image, ImageFormat, Patient, User } from '../src/entities';
import { projectRoot } from '../src/infra/paths';
import { batchShape, imageToTensor } from '../src/inference/preprocess';
import { featureMapAt, camToImage } from '../src/inference/cam-map';
import { gradCam, loadGradCamHead } from '../src/inference/gradcam';
import { heatmapPng } from '../src/inference/render';
import { encodeMap } from '../src/modules/jobs/cam-map-file';
import { batcherFor } from '../src/modules/jobs/runner/batcher';
import { MAX_IMAGES_PER_JOB } from '../src/modules/jobs/api/jobs.service';
import { sealPackage } from '../src/models-registry/package/package';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 9);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODEL = 'dg-gap-classifier';
/** BENCH_HEAVY=0 leaves out the realistic-size models. Profiling aid: BENCH_E2E_ONLY=1 measures only the e2e/bare rows (at BENCH_CONCURRENCY, default 1,8) and prints them. */
const E2E_ONLY = process.env.BENCH_E2E_ONLY === '1';
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
/** Profiling aid: BENCH_ROWS=a,b measures only the e2e rows whose name contains one of them (and skips the stage breakdown pass). */
const ONLY_ROWS = process.env.BENCH_ROWS?.split(',');
/** Profiling aid: BENCH_PROFILE=dir writes the main thread's CPU profile of each e2e row's windows there. */
const PROFILE_DIR = process.env.BENCH_PROFILE;
/** Images per classifyImages call in the batch rows; FULL is the most one call takes. */
const BATCH = Number(process.env.BENCH_BATCH ?? 32);
const FULL = MAX_IMAGES_PER_JOB;
const NAMES = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154', 'ISIC_0000184'];
const IMAGES = NAMES.map((n) => path.join(projectRoot, 'datasets/isic-uda1/images', `${n}.jpg`));

interface Sample {
  /** Milliseconds per call, of the calls that finished. */
  latencies: number[];
  /** Length of the measuring window. */
  seconds: number;
  /** Images finished inside the window. */
  images: number;
  /** CPU time of this process (all its threads) inside the window, ms. */
  cpuMs: number;
  /** Share of the window the main thread (event loop) was busy, 0..1. */
  loopBusy: number;
}

const merge = (xs: Sample[]): Sample => ({
  latencies: xs.flatMap((x) => x.latencies),
  seconds: xs.reduce((t, x) => t + x.seconds, 0),
  images: xs.reduce((t, x) => t + x.images, 0),
  cpuMs: xs.reduce((t, x) => t + x.cpuMs, 0),
  loopBusy: xs.reduce((t, x) => t + x.loopBusy * x.seconds, 0) / xs.reduce((t, x) => t + x.seconds, 0),
});

const imagesPerSecond = (s: Sample) => s.images / s.seconds;

/** Images finished so far by any pipeline (each bare run, each e2e `persisted` event). */
const finished = { images: 0 };

/**
 * `loops` concurrent loops calling `once` (after `warmup` calls one at a time), measured over a
 * window of `seconds` that opens once the loops have run for `settle` seconds. Throughput counts
 * the images finished inside the window, so neither the loops' ramp-up nor a batch call still
 * running when the window closes distorts it, whatever the size of a call.
 */
async function loopsFor(
  loops: number,
  once: (i: number) => Promise<void>,
  seconds = SECONDS,
  warmup = 10,
  settle = 0.3,
): Promise<Sample> {
  for (let i = 0; i < warmup; i++) await once(i);
  const latencies: number[] = [];
  const snapshot = () => ({
    at: performance.now(),
    cpu: process.cpuUsage(),
    images: finished.images,
    loop: performance.eventLoopUtilization(),
  });
  let open: ReturnType<typeof snapshot> | null = null;
  let window: Omit<Sample, 'latencies'> | null = null;
  const close = () => {
    const now = snapshot();
    const cpu = process.cpuUsage(open!.cpu);
    const loopBusy = performance.eventLoopUtilization(now.loop, open!.loop).utilization;
    window = {
      seconds: (now.at - open!.at) / 1000,
      images: now.images - open!.images,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopBusy,
    };
  };
  const opener = setTimeout(() => (open = snapshot()), settle * 1000);
  const closer = setTimeout(close, (settle + seconds) * 1000);
  const end = performance.now() + (settle + seconds) * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await once(n++);
        if (open && !window) latencies.push(performance.now() - s);
      }
    }),
  );
  clearTimeout(opener);
  clearTimeout(closer);
  open ??= snapshot();
  if (!window) close();
  return { latencies, ...(window as unknown as Omit<Sample, 'latencies'>) };
}

/** `run` under the inspector's CPU profiler when BENCH_PROFILE is set (the profile written as <dir>/<name>.cpuprofile). */
async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return run();
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(PROFILE_DIR, { recursive: true });
    await writeFile(path.join(PROFILE_DIR, `${name.replace(/[^\w.-]+/g, '_')}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

const row = (name: string, concurrency: number, s: Sample): Row => ({
  pipeline: name,
  concurrency,
  'img/s': imagesPerSecond(s),
  'p50 ms': quantile(s.latencies, 0.5),
  'p95 ms': quantile(s.latencies, 0.95),
  n: s.latencies.length,
  'process CPU ms/img': s.cpuMs / s.images,
  'event loop busy %': 100 * s.loopBusy,
});

async function e2eJobId(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: Record<string, { id: string }> };
  return Object.values(body.data)[0].id;
}

/** A signed-in clinician with one Image row per bench image, and `batchRows` more rows over the same files (for batches of distinct images). */
async function seed(
  server: RunningServer,
  batchRows: number,
): Promise<{ token: string; imageIds: string[]; batchImageIds: string[] }> {
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
  const patient = em.create(Patient, {
    owner: user.id,
    externalId: 'BENCH-1',
    displayName: 'Bench',
  } as never) as Patient;
  const files: Array<Record<string, unknown>> = [];
  for (const file of IMAGES) {
    const bytes = await readFile(file);
    const put = await server.services.inference.files.putBuffer(bytes);
    const meta2 = await sharp(bytes).metadata();
    files.push({
      sha256: put.sha256,
      format: ImageFormat.JPEG,
      mimeType: 'image/jpeg',
      byteSize: bytes.length,
      width: meta2.width!,
      height: meta2.height!,
    });
  }
  const rows = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => (em.create(Image, { patient, uploadedBy: user.id, ...files[i % files.length] } as never) as Image).id,
    );
  const imageIds = rows(files.length);
  const batchImageIds = rows(batchRows);
  await em.flush();
  return { token: login.accessToken!, imageIds, batchImageIds };
}

/** Realistic-size classifiers (torchvision architectures, random weights) to put the ratio in context. */
const HEAVY = [
  { arch: 'mobilenet_v3_small', name: 'bench-mobilenet-v3-small' },
  { arch: 'resnet18', name: 'bench-resnet18' },
];

/**
 * Exports `arch` with bench/heavy_classifier.py into bench/.cache, writes its manifest (the golden
 * case computed here with the same preprocessing and runtime the registry checks it with) and
 * installs it, active, into the server's registry. Null, with the reason, without python3 + torch.
 */
async function installHeavy(server: RunningServer, arch: string, name: string): Promise<string | null> {
  const dir = path.join(projectRoot, 'bench/.cache', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'golden'), { recursive: true });
  try {
    await promisify(execFile)(
      '/usr/bin/python3',
      [path.join(projectRoot, 'bench/heavy_classifier.py'), arch, path.join(dir, 'model.onnx')],
      { timeout: 300_000 },
    );
  } catch (e) {
    return `cannot export ${arch} with /usr/bin/python3 + torchvision (python3-torch absent?): ${String((e as Error).message).split('\n')[0]}`;
  }
  const golden = 'golden/ISIC_0000150.jpg';
  await copyFile(IMAGES[0], path.join(dir, golden));
  const input = {
    name: 'input',
    dtype: 'float32',
    layout: 'NCHW',
    width: 224,
    height: 224,
    colorOrder: 'RGB',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    resize: 'fill',
  } as const;
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const { tensor } = await imageToTensor(await readFile(path.join(dir, golden)), input as never);
  const logits = Array.from(
    (await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, 224, 224]) })).logits.data as Float32Array,
  );
  await session.release();
  const exp = logits.map((l) => Math.exp(l - Math.max(...logits)));
  const probabilities = exp.map((e) => Number((e / exp.reduce((a, b) => a + b, 0)).toFixed(6)));
  await writeFile(
    path.join(dir, 'MODEL_CARD.md'),
    `# ${name}\n\ntorchvision ${arch}, random weights (seed 0), 2 classes: a bench load of realistic size. Meaningless outputs; never for use.\n`,
  );
  const manifest = {
    schemaVersion: 1,
    name,
    version: '1.0.0',
    task: 'classification',
    description: `torchvision ${arch} with random weights: bench load only, outputs meaningless`,
    modelFile: 'model.onnx',
    files: {},
    input,
    outputs: [{ name: 'logits', role: 'logits' }],
    labels: ['benign', 'malignant'],
    malignantLabels: ['malignant'],
    postprocess: { activation: 'softmax', decisionThreshold: 0.5 },
    devices: ['cpu'],
    batching: { maxBatch: 8, maxDelayMs: 5 },
    threads: { intraOp: 1, interOp: 1 },
    license: 'BSD-3-Clause',
    provenance: {
      authors: 'Dermagraph bench',
      trainingData: 'none (random weights)',
      trainingScript: 'bench/heavy_classifier.py',
      createdAt: new Date().toISOString(),
    },
    goldenCases: [{ image: golden, expected: { probabilities }, tolerance: 0.001 }],
  };
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await sealPackage(dir);
  await server.services.models.install(dir, { activate: true });
  return null;
}

type HistogramLike = {
  get(): Promise<{ values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }> }>;
};

/**
 * Where one e2e classification's time goes (means per job, explain=false): the client's wait for
 * the mutation's reply and then for `done`, and the job's own stages from its Prometheus histograms
 * (each stage: time since the previous report, so they add up to the image's run).
 */
async function stageRows(
  c: number,
  split: { replyMs: number[]; doneMs: number[] },
  stages: HistogramLike,
  jobs: HistogramLike,
): Promise<Row[]> {
  const sums = new Map<string, { sum: number; count: number }>();
  const collect = (
    values: Awaited<ReturnType<HistogramLike['get']>>['values'],
    key: (l: Record<string, string | number>) => string | null,
  ) => {
    for (const v of values) {
      const k = key(v.labels);
      if (!k) continue;
      const s = sums.get(k) ?? { sum: 0, count: 0 };
      if (v.metricName?.endsWith('_sum')) s.sum += v.value;
      else if (v.metricName?.endsWith('_count')) s.count += v.value;
      sums.set(k, s);
    }
  };
  collect((await stages.get()).values, (l) => (l.kind === 'classify' ? `job stage: ${l.stage}` : null));
  collect((await jobs.get()).values, (l) =>
    l.kind === 'classify' && l.status === 'SUCCEEDED' ? 'job run (claim to done, all stages)' : null,
  );
  const rows: Row[] = [
    {
      pipeline: `breakdown c=${c}: client, mutation until its reply`,
      concurrency: c,
      'img/s': null,
      'p50 ms': quantile(split.replyMs, 0.5),
      'mean ms': mean(split.replyMs),
      n: split.replyMs.length,
    },
    {
      pipeline: `breakdown c=${c}: client, reply until done event`,
      concurrency: c,
      'img/s': null,
      'p50 ms': quantile(split.doneMs, 0.5),
      'mean ms': mean(split.doneMs),
      n: split.doneMs.length,
    },
  ];
  for (const [k, s] of sums)
    rows.push({
      pipeline: `breakdown c=${c}: ${k}`,
      concurrency: c,
      'img/s': null,
      'p50 ms': null,
      'mean ms': s.count ? (1000 * s.sum) / s.count : null,
      n: s.count,
    });
  return rows;
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
    QUOTA_FREE_SEGMENTATIONS_PER_MONTH: '10000000',
  });
  const server = await startServer(config, { logger: createLogger(config) });
  try {
    const { token, imageIds, batchImageIds } = await seed(server, 2 * Math.max(BATCH, FULL));
    const url = server.url.replace('localhost', '127.0.0.1');
    const inference = server.services.inference;
    /** Client-side split of each e2e request: until the mutation's reply, then until `done`. */
    const split = { replyMs: [] as number[], doneMs: [] as number[] };
    /** One client request: the mutation over HTTP, then its progress until `done`. */
    const e2e = async (mutation: string, variables: Record<string, unknown>) => {
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: mutation, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, { id: string }>; errors?: unknown };
      if (!body.data) throw new Error(`request failed: ${JSON.stringify(body.errors)}`);
      const jobId = Object.values(body.data)[0].id;
      const t1 = performance.now();
      for await (const e of inference.progress.stream(jobId)) {
        if (e.stage === 'failed') throw new Error(`job failed: ${e.message}`);
        if (e.stage === 'persisted') finished.images++;
      }
      split.replyMs.push(t1 - t0);
      split.doneMs.push(performance.now() - t1);
    };
    const classifyMany = `mutation($imageIds: [ID!]!, $models: [EnsembleMemberInput!], $explain: Boolean) { classifyImages(imageIds: $imageIds, models: $models, explain: $explain) { id } }`;
    const classify = `mutation($imageId: ID!, $models: [EnsembleMemberInput!], $explain: Boolean) { classifyImage(imageId: $imageId, models: $models, explain: $explain) { id } }`;
    const segment = `mutation($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!) { segmentImages(imageIds: $imageIds, members: $members) { id } }`;

    const bytes = await Promise.all(IMAGES.map((f) => readFile(f)));
    /** The bare pipeline on its own session of the model's file, with the manifest's threads. */
    const barePipeline = async (model: string) => {
      const lease = server.services.models.acquire(model);
      const manifest = lease.manifest;
      const file = path.join(server.services.models.versionInfo(model, lease.version)!.packageDir, manifest.modelFile);
      lease.release();
      const s = await ort.InferenceSession.create(file, {
        intraOpNumThreads: manifest.threads.intraOp,
        interOpNumThreads: manifest.threads.interOp,
        graphOptimizationLevel: 'all',
      });
      const once = async (i: number) => {
        const { tensor } = await imageToTensor(bytes[i % bytes.length], manifest.input);
        await s.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, batchShape(1, manifest.input)) });
        finished.images++;
      };
      return { manifest, file, session: s, once };
    };
    const shipped = await barePipeline(MODEL);
    const { manifest: m, file: modelPath, session, once: bare } = shipped;

    const rows: Row[] = [];
    const ratios: Record<string, number> = {};
    // The API's own floor: an authenticated GraphQL query over HTTP that reads one row.
    const probe = await e2eJobId(url, token, classify, {
      imageId: imageIds[0],
      models: [{ model: MODEL }],
      explain: false,
    });
    const floor = async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'query($id: ID!) { job(id: $id) { id status } }', variables: { id: probe } }),
      });
      await res.json();
      finished.images++; // a request, for the floor's row
    };
    const registry = server.services.metrics.registry;
    const histogram = (name: string) =>
      registry.getSingleMetric(name) as unknown as {
        reset(): void;
        get(): Promise<{
          values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
        }>;
      };
    const stageHist = histogram('dermagraph_inference_stage_duration_seconds');
    const jobHist = histogram('dermagraph_inference_job_duration_seconds');
    const breakdown: Row[] = [];
    /** SQL statements per image (mutation + run) over 16 more calls of `once` at concurrency `c`; E2E_ONLY prints them. */
    const statementsPerImage = async (c: number, imagesPerCall: number, once: (i: number) => Promise<void>) => {
      const knex = server.services.db.orm.em.getConnection().getKnex();
      const seen = new Map<string, number>();
      const onQuery = (q: { sql: string }) => seen.set(q.sql.slice(0, 120), (seen.get(q.sql.slice(0, 120)) ?? 0) + 1);
      knex.on('query', onQuery);
      const CALLS = 16;
      let next = 0;
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (next < CALLS) await once(next++);
        }),
      );
      knex.removeListener('query', onQuery);
      const images = CALLS * imagesPerCall;
      if (E2E_ONLY) for (const [sql, n] of seen) console.log(`${(n / images).toFixed(2)}  ${sql}`);
      return [...seen.values()].reduce((a, b) => a + b, 0) / images;
    };
    const single =
      (explain: boolean, model = MODEL) =>
      (i: number) =>
        e2e(classify, { imageId: imageIds[i % imageIds.length], models: [{ model }], explain });
    const batchOf = (i: number, size = BATCH) =>
      Array.from({ length: size }, (_, k) => batchImageIds[(i * size + k) % batchImageIds.length]);
    const many =
      (explain: boolean, size = BATCH, model = MODEL) =>
      (i: number) =>
        e2e(classifyMany, { imageIds: batchOf(i, size), models: [{ model }], explain });
    const batcherOf = (model: string) => {
      const lease = server.services.models.acquire(model);
      const modelBatcher = batcherFor(lease);
      lease.release();
      return modelBatcher;
    };
    const batcher = batcherOf(MODEL);
    type Pipeline = { name: string; key: string | null; images: number; once: (i: number) => Promise<void> };
    /**
     * Each e2e row is measured in ROUNDS short segments, each right after a segment of the bare
     * pipeline, and its ratio is the median of the segments' ratios: load from elsewhere on a
     * shared machine then falls on both sides of a ratio alike.
     */
    const againstBare = async (
      c: number,
      prefix: string,
      bareOnce: (i: number) => Promise<void>,
      modelBatcher: ReturnType<typeof batcherFor>,
      pipelines: Pipeline[],
    ) => {
      const bareSamples: Sample[] = [];
      const measured = pipelines.map(() => ({
        samples: [] as Sample[],
        ratios: [] as number[],
        batches: 0,
        batched: 0,
      }));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [k, p] of pipelines.entries()) {
          const warmup = round === 0 ? (p.images > 1 ? 2 : 10) : 0;
          const b = await loopsFor(c, bareOnce, SECONDS / ROUNDS, round === 0 && k === 0 ? 10 : 0);
          const before = { ...modelBatcher.stats };
          const e = await profiled(`${prefix}${p.name} c${c} r${round}`, () =>
            loopsFor(c, p.once, SECONDS / ROUNDS, warmup),
          );
          bareSamples.push(b);
          measured[k].samples.push(e);
          measured[k].ratios.push(imagesPerSecond(e) / imagesPerSecond(b));
          measured[k].batches += modelBatcher.stats.batches - before.batches;
          measured[k].batched += modelBatcher.stats.images - before.images;
        }
      }
      rows.push(row(`${prefix}bare: sharp + session.run`, c, merge(bareSamples)));
      for (const [k, p] of pipelines.entries()) {
        const m = measured[k];
        rows.push({
          ...row(`${prefix}${p.name}`, c, merge(m.samples)),
          'images per session run': m.batches ? m.batched / m.batches : null,
        });
        if (p.key) ratios[`${prefix}throughput ratio e2e/bare at concurrency ${c}, ${p.key}`] = quantile(m.ratios, 0.5);
      }
    };
    for (const c of CONCURRENCIES) {
      // Where one classification's time goes, in a pass of its own (no other row's jobs in the histograms).
      if (!ONLY_ROWS) {
        split.replyMs.length = split.doneMs.length = 0;
        stageHist.reset();
        jobHist.reset();
        await loopsFor(c, single(false));
        breakdown.push(...(await stageRows(c, split, stageHist, jobHist)));
      }
      ratios[`SQL statements per image at concurrency ${c}, classifyImage`] = await statementsPerImage(
        c,
        1,
        single(false),
      );
      ratios[`SQL statements per image at concurrency ${c}, classifyImages x${BATCH}`] = await statementsPerImage(
        c,
        BATCH,
        many(false),
      );
      const pipelines: Pipeline[] = [
        {
          name: 'e2e classifyImage (explain=false)',
          key: 'classifyImage (explain=false)',
          images: 1,
          once: single(false),
        },
        { name: 'e2e classifyImage (Grad-CAM)', key: 'classifyImage (Grad-CAM)', images: 1, once: single(true) },
        {
          name: `e2e classifyImages x${BATCH} (explain=false)`,
          key: `classifyImages x${BATCH} (explain=false)`,
          images: BATCH,
          once: many(false),
        },
        {
          name: `e2e classifyImages x${BATCH} (Grad-CAM)`,
          key: `classifyImages x${BATCH} (Grad-CAM)`,
          images: BATCH,
          once: many(true),
        },
        {
          name: `e2e classifyImages x${FULL}, a full call (explain=false)`,
          key: `classifyImages x${FULL} (explain=false)`,
          images: FULL,
          once: many(false, FULL),
        },
        { name: 'API floor: job(id) query over HTTP', key: null, images: 1, once: floor },
      ].filter((p) => !ONLY_ROWS || ONLY_ROWS.some((r) => p.name.includes(r)));
      await againstBare(c, '', bare, batcher, pipelines);
    }

    rows.push(...breakdown);

    // The same comparison with classifiers of realistic size (the fixed per-job cost matters less).
    for (const h of process.env.BENCH_HEAVY === '0' ? [] : HEAVY) {
      const skipped = await installHeavy(server, h.arch, h.name);
      if (skipped) {
        process.stderr.write(`inference bench: skipping the ${h.arch} rows: ${skipped}\n`);
        continue;
      }
      const hb = await barePipeline(h.name);
      for (const c of CONCURRENCIES) {
        await againstBare(c, `${h.arch}: `, hb.once, batcherOf(h.name), [
          {
            name: 'e2e classifyImage (explain=false)',
            key: 'classifyImage (explain=false)',
            images: 1,
            once: single(false, h.name),
          },
          {
            name: `e2e classifyImages x${BATCH} (explain=false)`,
            key: `classifyImages x${BATCH} (explain=false)`,
            images: BATCH,
            once: many(false, BATCH, h.name),
          },
        ]);
      }
      await hb.session.release();
    }
    if (E2E_ONLY) {
      console.table(rows);
      console.table(ratios);
      return;
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
      const map = camToImage(cam.cam, cam.width, cam.height, 250, 250, {
        mode: m.input.resize,
        modelWidth: m.input.width,
        modelHeight: m.input.height,
      });
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
    rows.push({
      pipeline: 'inference (decode+resize+run), 1 image',
      concurrency: 1,
      'img/s': null,
      'p50 ms': quantile(inferMs, 0.5),
      'p95 ms': quantile(inferMs, 0.95),
      n: inferMs.length,
    });
    rows.push({
      pipeline: 'Grad-CAM math (head backprop + map to image)',
      concurrency: 1,
      'img/s': null,
      'p50 ms': quantile(mathMs, 0.5),
      'p95 ms': quantile(mathMs, 0.95),
      n: mathMs.length,
    });
    rows.push({
      pipeline: 'Grad-CAM map into the file store',
      concurrency: 1,
      'img/s': null,
      'p50 ms': quantile(storeMs, 0.5),
      'p95 ms': quantile(storeMs, 0.95),
      n: storeMs.length,
    });
    rows.push({
      pipeline: 'Grad-CAM in the job (math + store map)',
      concurrency: 1,
      'img/s': null,
      'p50 ms': quantile(camMs, 0.5),
      'p95 ms': quantile(camMs, 0.95),
      n: camMs.length,
    });
    rows.push({
      pipeline: 'heatmap PNG, rendered on first request (250x250)',
      concurrency: 1,
      'img/s': null,
      'p50 ms': quantile(pngMs, 0.5),
      'p95 ms': quantile(pngMs, 0.95),
      n: pngMs.length,
    });
    await session.release();

    // Two-member segmentation ensemble vs each member alone (e2e, one image per job, one at a time).
    // Interleaved rounds so load from elsewhere on the machine falls on all three alike.
    const seg = (members: Array<{ model: string }>) =>
      loopsFor(1, (i) => e2e(segment, { imageIds: [imageIds[i % imageIds.length]], members }), SECONDS / ROUNDS);
    const runs: Sample[][] = [[], [], []];
    for (let round = 0; round < ROUNDS; round++) {
      runs[0].push(await seg([{ model: 'dg-seg-stats' }]));
      runs[1].push(await seg([{ model: 'dg-seg-skin-distance' }]));
      runs[2].push(await seg([{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }]));
    }
    const [a, bm, both] = runs.map(merge);
    rows.push(
      row('e2e segment dg-seg-stats', 1, a),
      row('e2e segment dg-seg-skin-distance', 1, bm),
      row('e2e segment ensemble of both', 1, both),
    );
    const slowest = Math.max(quantile(a.latencies, 0.5), quantile(bm.latencies, 0.5));

    report({
      bench: 'inference',
      description: `end-to-end classifyImage / classifyImages (${MODEL}) vs the bare pipeline in the same process and run: each e2e row is ${ROUNDS} windows of ${(SECONDS / ROUNDS).toFixed(1)} s, each right after a window of the bare pipeline, and its ratio is the median of the windows' ratios; Grad-CAM cost; segmentation ensemble vs its slowest member`,
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
