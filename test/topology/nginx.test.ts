import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { packPackage } from '../../src/models-registry/package/package';
import { makeClassifierPackage } from '../fixtures/models/packages';
import { createTestDatabase, testRedisPrefix } from '../support/database';
import { TEST_REDIS_URL } from '../support/env';
import { connectWs } from '../support/ws';
import { isicImage, Q as IQ, subscribeProgress } from '../inference/helpers';
import { gql, multipart as multipartTo, signIn as signInTo, UPLOAD, waitJob as waitJobOn } from './client';
import { freePort } from '../../bench/free-port';
import { exited, metricSum, spawnCli, startNginx, stopAll, writeNginxConfig, type Proc } from './cluster';

/**
 * The deployment of docker-compose.yml without containers (no Docker engine here): the Debian nginx
 * running deploy/nginx.conf in front of two api processes (JOB_MODE=queue) and two `dermagraph
 * worker`s, on the real PostgreSQL and Redis and one shared DATA_DIR, everything the built CLI.
 * Clients speak only to nginx, except where a test needs one process in particular.
 */
const procs: Proc[] = [];
let work: string;
let dbUrl: string;
let nginxPort: number;
let base: string; // http://127.0.0.1:<nginx>
const api: Array<{ port: number; url: string }> = [];
const workers: Array<{ proc: Proc; httpPort: number }> = [];
const ADMIN = { email: 'admin@topology.test', password: `Admin-${randomBytes(9).toString('base64url')}` };

// The client calls, through nginx unless a URL is given.
const viaNginx = () => `${base}/graphql`;
const multipart = (...a: Parameters<typeof multipartTo> extends [string, ...infer R] ? R : never) =>
  multipartTo(viaNginx(), ...a);
const signIn = (email: string, password: string) => signInTo(viaNginx(), email, password);
const waitJob = (token: string, id: string) => waitJobOn(viaNginx(), token, id);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'dg-topology-'));
  dbUrl = await createTestDatabase();
  nginxPort = await freePort(); // before the api processes, which must know PUBLIC_URL
  base = `http://127.0.0.1:${nginxPort}`;
  // What production sets explicitly and every process shares (docs/operations.md).
  const shared = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: dbUrl,
    DATABASE_POOL_MAX: '4',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testRedisPrefix(),
    DATA_DIR: path.join(work, 'data'),
    PUBLIC_URL: base,
    TRUST_PROXY: '127.0.0.1', // nginx's address, nothing wider
    URL_SIGNING_SECRET: randomBytes(32).toString('hex'),
    TOTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ALLOW_UNVERIFIED_LOGIN: '1',
    JOB_MODE: 'queue',
    JOB_LOCK_MS: '2000',
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  const apiEnv = (extra: Record<string, string> = {}) => ({ ...shared, PORT: '0', ...extra });
  const workerEnv = { ...shared, WORKER_HTTP_PORT: '0', JOB_CONCURRENCY: '1' };
  // The first admin comes from ADMIN_EMAIL on one process only (two would race to create it).
  const started = await Promise.all([
    spawnCli(
      'api-a',
      'serve',
      apiEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }),
      procs,
      'dermagraph ready',
    ),
    spawnCli('api-b', 'serve', apiEnv(), procs, 'dermagraph ready'),
    spawnCli('worker-1', 'worker', workerEnv, procs, 'dermagraph worker ready'),
    spawnCli('worker-2', 'worker', workerEnv, procs, 'dermagraph worker ready'),
  ]);
  for (const { ready } of started.slice(0, 2)) {
    const port = Number(new URL(ready.url).port);
    api.push({ port, url: `http://127.0.0.1:${port}/graphql` });
  }
  for (const { proc, ready } of started.slice(2)) workers.push({ proc, httpPort: ready.httpPort });
  const conf = await writeNginxConfig(
    work,
    nginxPort,
    api.map((a) => a.port),
  );
  await startNginx(work, conf, nginxPort, procs);
}, 300_000);

afterAll(async () => {
  await stopAll(procs);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('nginx in front of two api processes and two workers (deploy/nginx.conf)', () => {
  let clinician: string;
  let patientId: string;
  let imageIds: string[] = [];

  it('sign up, sign in and upload through nginx; the files come back byte for byte; security headers on every answer', async () => {
    const email = `clinician-${randomBytes(4).toString('hex')}@topology.test`;
    const password = `Pw-${randomBytes(12).toString('base64url')}`;
    const reg = await gql(`${base}/graphql`, 'mutation($i: RegisterInput!) { register(input: $i) { id } }', {
      i: { email, password },
    });
    expect(reg.errors).toBeUndefined();
    clinician = await signIn(email, password);
    const p = await gql(
      `${base}/graphql`,
      'mutation($i: PatientInput!) { createPatient(input: $i) { id } }',
      { i: { externalId: 'MRN-TOPO-1', displayName: 'Topology Patient' } },
      clinician,
    );
    expect(p.errors).toBeUndefined();
    patientId = p.data.createPatient.id;

    const names = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'];
    const up = await multipart(clinician, UPLOAD, { patientId }, names.map(isicImage));
    expect(up.errors).toBeUndefined();
    expect(up.headers.get('x-content-type-options')).toBe('nosniff');
    expect(up.headers.get('x-frame-options')).toBe('DENY');
    expect(up.headers.get('referrer-policy')).toBe('no-referrer');
    expect(up.headers.get('server')).toBe('nginx'); // server_tokens off: no version
    imageIds = up.data.uploadImages.map((i: { id: string }) => i.id);
    for (const [i, img] of up.data.uploadImages.entries()) {
      expect(new URL(img.url).origin).toBe(base); // PUBLIC_URL: links point at the proxy
      const res = await fetch(img.url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(isicImage(names[i])))).toBe(true);
    }
    // One header of each, even where the api sets its own (an error page here).
    const missing = await fetch(`${base}/no-such-path`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
    expect(missing.headers.get('referrer-policy')).toBe('no-referrer');
  }, 60_000);

  it('classify: submitted to api B, run by a worker, every stage seen by a subscription on api A', async () => {
    const r = await gql(api[1].url, IQ.classify, { imageId: imageIds[0] }, clinician);
    expect(r.errors).toBeUndefined();
    const jobId = r.data.classifyImage.id;
    const onA = await subscribeProgress(api[0].url, clinician, jobId);
    await onA.done;
    await onA.close();
    expect(onA.errors).toEqual([]);
    expect(onA.events.map((e) => e.stage)).toContain('DONE');
    expect(onA.events.find((e) => e.stage === 'PERSISTED')?.prediction?.id).toBeTruthy();
    const job = await waitJob(clinician, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    // The api checks requests against its catalogue, sessions or not: an unknown model, a wrong version.
    const unknown = await gql(
      api[0].url,
      IQ.classify,
      { imageId: imageIds[0], models: [{ model: 'nope' }] },
      clinician,
    );
    expect(unknown.errors?.[0].extensions).toMatchObject({ code: 'MODEL_UNAVAILABLE', field: 'models[0].model' });
    const version = await gql(
      api[0].url,
      IQ.classify,
      { imageId: imageIds[0], models: [{ model: 'dg-mlp-classifier', version: '9.9.9' }] },
      clinician,
    );
    expect(version.errors?.[0].extensions).toMatchObject({ code: 'MODEL_UNAVAILABLE', field: 'models[0].version' });
  }, 60_000);

  it('segment through nginx with the subscription over nginx (WebSocket upgrade); the mask is served through nginx', async () => {
    const r = await gql(
      `${base}/graphql`,
      IQ.segment,
      { imageIds: imageIds.slice(0, 2), members: [{ model: 'dg-seg-stats' }] },
      clinician,
    );
    expect(r.errors).toBeUndefined();
    const stream = await subscribeProgress(`${base}/graphql`, clinician, r.data.segmentImages.id);
    await stream.done;
    await stream.close();
    expect(stream.errors).toEqual([]);
    expect(stream.events.filter((e) => e.stage === 'DONE')).toHaveLength(1);
    const job = await waitJob(clinician, r.data.segmentImages.id);
    expect(job.status).toBe('SUCCEEDED');
    const seg = await gql(`${base}/graphql`, IQ.segmentation, { id: job.resultIds[0] }, clinician);
    expect(seg.errors).toBeUndefined();
    const mask = await fetch(seg.data.segmentation.maskUrl);
    expect(mask.status).toBe(200);
    expect(mask.headers.get('content-type')).toBe('image/png');
  }, 60_000);

  it('requests are spread over both api processes (the access log names each upstream)', async () => {
    await Promise.all(Array.from({ length: 16 }, () => gql(`${base}/graphql`, '{ __typename }')));
    const lines = (await readFile(path.join(work, 'access.log'), 'utf8')).split('\n').filter(Boolean);
    const counts = api.map((a) => lines.filter((l) => l.endsWith(` 127.0.0.1:${a.port}`)).length);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  }, 30_000);

  it('/readyz and /metrics are not public; each process serves them on its own port, workers too', async () => {
    for (const p of ['/readyz', '/metrics', '/METRICS', '/metrics/', '/readyz?x=1']) {
      const res = await fetch(`${base}${p}`);
      expect({ p, status: res.status }).toEqual({ p, status: 404 });
      expect(await res.text()).not.toContain('dermagraph_');
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Bodies: 1 MiB off /graphql (nginx answers 413 itself); /graphql takes uploads (GraphQL errors past the api's limits).
    const big = await fetch(`${base}/reset-password`, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024, 97) });
    expect(big.status).toBe(413);
    expect(big.headers.get('x-content-type-options')).toBe('nosniff');
    for (const a of api) {
      expect((await fetch(`http://127.0.0.1:${a.port}/readyz`)).status).toBe(200);
      // API_LOAD_MODELS=auto in queue mode: the api holds the catalogue but no onnxruntime session.
      const m = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
      expect(metricSum(m, 'dermagraph_model_sessions_loaded')).toBe(0);
      expect(await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text()).toContain(
        'dermagraph_graphql_requests_total',
      );
    }
    for (const w of workers) {
      const at = `http://127.0.0.1:${w.httpPort}`;
      expect(await (await fetch(`${at}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${at}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'UP', redis: 'UP', models: 'UP' } });
      const metrics = await (await fetch(`${at}/metrics`)).text();
      expect(metrics).toContain('dermagraph_inference_queue_depth');
      expect(metricSum(metrics, 'dermagraph_model_sessions_loaded')).toBeGreaterThanOrEqual(4); // the shipped models
      expect((await fetch(`${at}/graphql`)).status).toBe(404);
    }
  }, 30_000);

  it("a model version uploaded through nginx and activated through api B is active on api A, then on every process; audit rows carry nginx's client IP and request id", async () => {
    const admin = await signIn(ADMIN.email, ADMIN.password);
    const packs = path.join(work, 'packs');
    const zips: string[] = [];
    for (const [version, model] of [
      ['1.0.0', 'v1'],
      ['2.0.0', 'v2'],
    ] as const) {
      const dir = await makeClassifierPackage(packs, { name: 'topo-classifier', version, model });
      zips.push((await packPackage(dir, path.join(packs, `${version}.zip`))).outFile);
    }
    const UPLOAD_MODEL = `mutation($file: Upload!, $activate: Boolean!) { uploadModelPackage(file: $file, activate: $activate) { version status } }`;
    // A client's own X-Forwarded-For does not choose its IP: nginx replaces it, and the api trusts nginx only.
    const requestIds: string[] = [];
    for (const [i, zip] of zips.entries()) {
      const up = await multipart(admin, UPLOAD_MODEL, { activate: i === 0 }, [zip], true, {
        'x-forwarded-for': '203.0.113.9',
      });
      expect(up.errors).toBeUndefined();
      requestIds.push(up.headers.get('x-request-id')!);
    }
    const audit = await gql(
      `${base}/graphql`,
      'query { auditLog(first: 50) { edges { node { action ip requestId } } } }',
      {},
      admin,
    );
    const uploads = audit.data.auditLog.edges.map((e: any) => e.node).filter((n: any) => n.action === 'MODEL_UPLOADED');
    expect(uploads).toHaveLength(2);
    for (const u of uploads) expect(u.ip).toBe('127.0.0.1');
    // nginx's request id ($request_id) is the api's, answered in x-request-id and kept on the audit row.
    expect(requestIds.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(uploads.map((u: any) => u.requestId).sort()).toEqual([...requestIds].sort());
    const ACTIVE = `query { model(name: "topo-classifier") { activeVersion } }`;
    expect((await gql(api[0].url, ACTIVE, {}, admin)).data.model.activeVersion).toBe('1.0.0');
    // Every process announces the versions it makes active (modelRegistryEvents, over Redis).
    const events: Array<{ type: string; name: string; version: string; processId: string }> = [];
    const ws = await connectWs(`${base}/graphql`, admin);
    ws.subscribe(
      { query: 'subscription { modelRegistryEvents { type name version processId } }' },
      {
        next: (r) => r.data && events.push((r.data as any).modelRegistryEvents),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await new Promise((r) => setTimeout(r, 300)); // the subscription is registered on Redis
    const t0 = Date.now();
    const act = await gql(
      api[1].url,
      `mutation { activateModelVersion(name: "topo-classifier", version: "2.0.0") { version status } }`,
      {},
      admin,
    );
    expect(act.errors).toBeUndefined();
    let seen = '';
    let onA = 0;
    while (Date.now() - t0 < 10_000) {
      seen = (await gql(api[0].url, ACTIVE, {}, admin)).data.model.activeVersion;
      onA = Date.now() - t0;
      if (seen === '2.0.0') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe('2.0.0');
    // Active everywhere: both apis (the pointer) and both workers (loaded and golden-checked there).
    const activated = () =>
      new Set(
        events
          .filter((e) => e.type === 'ACTIVATED' && e.name === 'topo-classifier' && e.version === '2.0.0')
          .map((e) => e.processId),
      ).size;
    while (activated() < 4 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 10));
    const everywhere = Date.now() - t0;
    await ws.dispose();
    expect(activated()).toBe(4);
    expect(events.filter((e) => e.type === 'FAILED')).toEqual([]);
    console.log(
      `topology: 2.0.0 active on api A ${onA} ms, on all 4 processes ${everywhere} ms after activateModelVersion was sent to api B`,
    );
    // The workers run it: a classification with the new default version answers from 2.0.0.
    const r = await gql(
      `${base}/graphql`,
      IQ.classify,
      { imageId: imageIds[1], models: [{ model: 'topo-classifier' }] },
      clinician,
    );
    expect(r.errors).toBeUndefined();
    const job = await waitJob(clinician, r.data.classifyImage.id);
    expect(job.status).toBe('SUCCEEDED');
    const pred = await gql(`${base}/graphql`, IQ.prediction, { id: job.resultIds[0] }, clinician);
    expect(pred.data.prediction.members[0]).toMatchObject({ model: 'topo-classifier', version: '2.0.0' });
  }, 90_000);

  it('a worker SIGKILLed mid-job: the other worker takes the job over and completes it exactly once', async () => {
    // 24 images (the same 4 files uploaded again: 24 rows, content-addressed files).
    const names = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'];
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const up = await multipart(
        clinician,
        UPLOAD,
        { patientId },
        Array.from({ length: 12 }, (_, k) => isicImage(names[k % 4])),
      );
      expect(up.errors).toBeUndefined();
      ids.push(...up.data.uploadImages.map((x: { id: string }) => x.id));
    }
    const inferences = async () =>
      Promise.all(
        workers.map(async (w) =>
          metricSum(
            await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text(),
            'dermagraph_model_inferences_total',
            'dg-seg-skin-distance',
          ),
        ),
      );
    const before = await inferences();
    const r = await gql(
      `${base}/graphql`,
      IQ.segment,
      { imageIds: ids, members: [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }] },
      clinician,
    );
    expect(r.errors).toBeUndefined();
    const jobId = r.data.segmentImages.id;
    const stream = await subscribeProgress(`${base}/graphql`, clinician, jobId);
    while (stream.events.filter((e) => e.stage === 'PERSISTED').length < 3)
      await new Promise((res) => setTimeout(res, 5));
    // The worker running it is the one whose /metrics counts new inferences of the job's model.
    const now = await inferences();
    const running = now.findIndex((n, i) => n > before[i]);
    expect(running).toBeGreaterThanOrEqual(0);
    expect(now.filter((n, i) => n > before[i])).toHaveLength(1);
    workers[running].proc.child.kill('SIGKILL');
    await exited(workers[running].proc.child);
    const persistedBefore = stream.events.filter((e) => e.stage === 'PERSISTED').length;
    expect(persistedBefore).toBeLessThan(ids.length);
    await stream.done;
    await stream.close();
    expect(stream.errors).toEqual([]);
    const job = await waitJob(clinician, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', progress: 1 });
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    expect(stream.events.filter((e) => e.stage === 'DONE')).toHaveLength(1);
    const other = workers[1 - running];
    expect(
      metricSum(
        await (await fetch(`http://127.0.0.1:${other.httpPort}/metrics`)).text(),
        'dermagraph_model_inferences_total',
        'dg-seg-skin-distance',
      ),
    ).toBeGreaterThan(now[1 - running]);
    // Exactly once: one segmentation per image of the job.
    const pg = new Client({ connectionString: dbUrl });
    await pg.connect();
    try {
      const rows = (await pg.query('select image_id from segmentations where job_id = $1', [jobId])).rows;
      expect(rows).toHaveLength(ids.length);
      expect(new Set(rows.map((x) => x.image_id)).size).toBe(ids.length);
    } finally {
      await pg.end();
    }
  }, 120_000);
});
