import net from 'node:net';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, seedImages, subscribeProgress, waitForJob } from '../inference/helpers';
import { exited, metricSum, spawnCli, stopAll, type Proc } from './cluster';

/**
 * `dermagraph worker`'s own listener: /healthz, /readyz and /metrics on HOST:WORKER_HTTP_PORT, ready
 * once the models are loaded, not ready while it drains on SIGTERM (running jobs finish), and a
 * start that cannot bind its port fails at once with the reason.
 */
let server: TestServer;
let alice: SignedInUser;
const procs: Proc[] = [];

const workerEnv = (extra: Record<string, string> = {}) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  HOST: '127.0.0.1',
  DATABASE_URL: server.config.DATABASE_URL,
  REDIS_URL: server.config.REDIS_URL,
  REDIS_PREFIX: server.config.REDIS_PREFIX,
  DATA_DIR: server.dataDir,
  JOB_CONCURRENCY: '1',
  SHUTDOWN_TIMEOUT_MS: '60000',
  WORKER_HTTP_PORT: '0',
  ...extra,
});

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'queue' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
}, 300_000);

afterAll(async () => {
  await stopAll(procs);
  await server?.close();
});

it('serves /healthz, /readyz and /metrics; on SIGTERM /readyz answers 503 until its running job has finished', async () => {
  const { proc, ready } = await spawnCli('w1', 'worker', workerEnv(), procs, 'dermagraph worker ready');
  const at = `http://127.0.0.1:${ready.httpPort}`;
  expect(ready.http).toBe(at);
  expect(await (await fetch(`${at}/healthz`)).json()).toEqual({ status: 'ok' });
  const r0 = await fetch(`${at}/readyz`);
  expect(r0.status).toBe(200);
  expect(await r0.json()).toEqual({ status: 'ready', checks: { database: 'UP', redis: 'UP', models: 'UP' } });
  const m0 = await fetch(`${at}/metrics`);
  expect(m0.headers.get('content-type')).toContain('text/plain');
  const text = await m0.text();
  expect(text).toContain('dermagraph_process_resident_memory_bytes');
  expect(metricSum(text, 'dermagraph_model_sessions_loaded')).toBeGreaterThanOrEqual(4);
  for (const p of ['/graphql', '/nope', '/readyz/../etc']) expect((await fetch(`${at}${p}`)).status).toBe(404);
  expect((await fetch(`${at}/healthz`, { method: 'POST' })).status).toBe(404);

  // A job long enough to be running when the signal comes.
  const imageIds = await seedImages(
    server,
    alice.id,
    Array.from({ length: 16 }, () => 'ISIC_0000150'),
  );
  const job = await server.gql<any>(
    Q.segment,
    { imageIds, members: [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }] },
    alice.token,
  );
  expect(job.errors).toBeUndefined();
  const stream = await subscribeProgress(server.url, alice.token, job.data.segmentImages.id);
  while (!stream.events.some((e) => e.stage === 'PERSISTED')) await new Promise((r) => setTimeout(r, 5));
  proc.child.kill('SIGTERM');
  let draining: { status: number; body: any } | null = null;
  for (let i = 0; i < 200 && !draining; i++) {
    const res = await fetch(`${at}/readyz`).catch(() => null);
    if (res?.status === 503) draining = { status: 503, body: await res.json() };
    else await new Promise((r) => setTimeout(r, 10));
  }
  expect(draining?.body).toEqual({
    status: 'not ready',
    checks: { database: 'UP', redis: 'UP', models: 'UP', draining: 'DOWN' },
  });
  expect((await fetch(`${at}/healthz`)).status).toBe(200); // alive while it drains
  await exited(proc.child);
  expect(proc.child.exitCode).toBe(0);
  await stream.done;
  await stream.close();
  const done = await waitForJob(server, alice.token, job.data.segmentImages.id);
  expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 1 }); // finished by the draining worker itself
  await expect(fetch(`${at}/healthz`)).rejects.toThrow(); // and the listener is closed
}, 180_000);

it('a taken WORKER_HTTP_PORT stops the start with the reason; a garbage one is a configuration error', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const start = spawnCli(
      'w-taken',
      'worker',
      workerEnv({ WORKER_HTTP_PORT: String(port) }),
      procs,
      'dermagraph worker ready',
    );
    await expect(start).rejects.toThrow(/EADDRINUSE/);
    expect(procs.at(-1)!.child.exitCode).not.toBe(0);
  } finally {
    await new Promise<void>((r) => taken.close(() => r()));
  }
  const bad = spawnCli('w-bad', 'worker', workerEnv({ WORKER_HTTP_PORT: 'ninety' }), procs, 'dermagraph worker ready');
  await expect(bad).rejects.toThrow(/WORKER_HTTP_PORT/);
  expect(procs.at(-1)!.child.exitCode).toBe(78);
}, 120_000);
