import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../src/app/start';
import { Image, ImageFormat, Patient, User } from '../../src/entities';
import { batchShape, imageToTensor } from '../../src/inference/preprocess';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/observability/logger';
import { batcherFor } from '../../src/modules/jobs/runner/batcher';
import { createBenchDatabase } from '../harness';
import { finished } from './sampling';
import { BATCH, FULL, IMAGES } from './settings';

export const classifyMany = `mutation($imageIds: [ID!]!, $models: [EnsembleMemberInput!], $explain: Boolean) { classifyImages(imageIds: $imageIds, models: $models, explain: $explain) { id } }`;
export const classify = `mutation($imageId: ID!, $models: [EnsembleMemberInput!], $explain: Boolean) { classifyImage(imageId: $imageId, models: $models, explain: $explain) { id } }`;
export const segment = `mutation($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!) { segmentImages(imageIds: $imageIds, members: $members) { id } }`;

/** The server under test, with a signed-in clinician and the bench images as Image rows. */
export interface BenchServer {
  server: RunningServer;
  url: string;
  token: string;
  imageIds: string[];
  /** More Image rows over the same files, for batches of distinct images. */
  batchImageIds: string[];
  /** The bench images' bytes, for the bare pipeline. */
  bytes: Buffer[];
  /** Client-side split of each e2e request: until the mutation's reply, then until `done`. */
  split: { replyMs: number[]; doneMs: number[] };
  /** One client request: the mutation over HTTP, then its progress until `done`. */
  e2e(mutation: string, variables: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

/** A server on a fresh database and data directory, jobs in process, quotas out of the way. */
export async function startBench(): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dg-bench-inference-'));
  const database = await createBenchDatabase('inference');
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: '',
    JOB_MODE: 'inline',
    JOB_CONCURRENCY: '8',
    QUOTA_FREE_PREDICTIONS_PER_MONTH: '10000000',
    QUOTA_FREE_SEGMENTATIONS_PER_MONTH: '10000000',
  });
  const server = await startServer(config, { logger: createLogger(config) });
  const stop = async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await database.drop();
  };
  try {
    const { token, imageIds, batchImageIds } = await seed(server, 2 * Math.max(BATCH, FULL));
    const url = server.url.replace('localhost', '127.0.0.1');
    const inference = server.services.inference;
    const split = { replyMs: [] as number[], doneMs: [] as number[] };
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
    const bytes = await Promise.all(IMAGES.map((f) => readFile(f)));
    return { server, url, token, imageIds, batchImageIds, bytes, split, e2e, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The bare pipeline on its own session of the model's file, with the manifest's threads. */
export async function barePipeline(bench: BenchServer, model: string) {
  const { server, bytes } = bench;
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
}
export type BarePipeline = Awaited<ReturnType<typeof barePipeline>>;

/** The dynamic batcher the server runs `model` on (its stats count batches and images). */
export function batcherOf(server: RunningServer, model: string) {
  const lease = server.services.models.acquire(model);
  const modelBatcher = batcherFor(lease);
  lease.release();
  return modelBatcher;
}

export async function e2eJobId(
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
  const { registration, signIn } = server.services.auth;
  const email = `bench-${randomUUID().slice(0, 8)}@example.test`;
  const password = `Pw-${randomUUID()}`;
  const meta = { ip: '198.51.100.7', userAgent: 'bench' };
  const em = server.services.db.orm.em.fork();
  const created = await registration.register(em, { email, password }, meta);
  const user = await em.findOneOrFail(User, { id: created.id });
  user.emailVerifiedAt = new Date();
  await em.flush();
  const login = await signIn.login(em.fork(), email, password, meta);
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
