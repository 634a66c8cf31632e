import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { exited, killWorkers, startWorkerProcess } from '../support/workers';
import { connectWs } from '../support/ws';
import { seedImages } from '../inference/helpers';
import { gqlWithId, Q, quietInfoLogger } from './helpers';
import { eventually } from '../support/poll';

/**
 * Logs and monitoring across processes: an api process (queue mode) and a `dermagraph worker` process
 * (the built CLI) on the real PostgreSQL and Redis. The api's logger writes at info into its ring.
 */
let server: TestServer;
let admin: SignedInUser;
let clinician: SignedInUser;
let researcher: SignedInUser;
const workers: ChildProcess[] = [];
const started = new Date(Date.now() - 60_000);

beforeAll(async () => {
  server = await startTestServer({
    env: { JOB_MODE: 'queue', MONITOR_INTERVAL_MS: '1000' },
    logger: quietInfoLogger(),
  });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  clinician = await createSignedInUser(server);
  researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
}, 120_000);

afterAll(async () => {
  killWorkers(workers);
  await server?.close();
});

it('serverLogs, systemStatus processes and modelUsage are for admins only', async () => {
  const since = new Date().toISOString();
  for (const [query, vars] of [
    [Q.logs, {}],
    [Q.status, {}],
    [Q.usage, { since }],
  ] as const) {
    for (const user of [clinician, researcher]) {
      const r = await server.gql<any>(query, vars, user.token);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const anon = await server.gql<any>(query, vars);
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }
  // The live tail refuses at subscribe time.
  for (const [user, code] of [
    [clinician, 'FORBIDDEN'],
    [researcher, 'FORBIDDEN'],
  ] as const) {
    const ws = await connectWs(server.url, user.token);
    const err = await new Promise<any>((resolve) =>
      ws.subscribe(
        { query: 'subscription { serverLogStream { message } }' },
        {
          next: (m) => resolve(m.errors?.[0]),
          error: (e) => resolve(Array.isArray(e) ? e[0] : e),
          complete: () => resolve(null),
        },
      ),
    );
    expect(err?.extensions?.code).toBe(code);
    await ws.dispose();
  }
});

it('serverLogs refuses garbage arguments with stable codes', async () => {
  for (const limit of [0, -1, 501, 1e9]) {
    const r = await server.gql<any>(Q.logs, { limit }, admin.token);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  }
  for (const vars of [{ level: 'LOUD' }, { since: 'yesterday' }, { limit: 'ten' }, { level: 30 }]) {
    const r = await server.gql<any>(Q.logs, vars, admin.token);
    expect(r.errors?.[0]?.extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    expect(r.data ?? null).toBeNull();
  }
  for (const vars of [
    { since: 'x' },
    { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' },
    { since: '2020-01-01T00:00:00Z' },
  ]) {
    const r = await server.gql<any>(Q.usage, vars, admin.token);
    expect(r.errors?.[0]?.extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
  }
});

it("serverLogs returns this process's lines with their request id, filtered by level and time", async () => {
  const requestId = `o1-${randomUUID()}`;
  await gqlWithId(server, requestId, '{ me { id } }', {}, clinician.token);
  const r = await server.gql<any>(Q.logs, { level: 'INFO', limit: 500 }, admin.token);
  expect(r.errors).toBeUndefined();
  const mine = r.data.serverLogs.lines.filter((l: any) => l.requestId === requestId);
  expect(mine.length).toBeGreaterThan(0);
  expect(mine[0].source).toMatchObject({ role: 'api', pid: process.pid });
  expect(JSON.parse(mine[0].json).req.id).toBe(requestId);
  // Oldest first.
  const times = r.data.serverLogs.lines.map((l: any) => Date.parse(l.time));
  expect([...times].sort((a, b) => a - b)).toEqual(times);
  expect(r.data.serverLogs.sources).toContainEqual({
    answered: true,
    source: expect.objectContaining({ role: 'api' }),
  });

  const errorsOnly = await server.gql<any>(Q.logs, { level: 'ERROR', limit: 500 }, admin.token);
  expect(errorsOnly.data.serverLogs.lines.every((l: any) => ['ERROR', 'FATAL'].includes(l.level))).toBe(true);
  const future = await server.gql<any>(Q.logs, { since: new Date(Date.now() + 3600_000).toISOString() }, admin.token);
  expect(future.data.serverLogs.lines).toEqual([]);
  const two = await server.gql<any>(Q.logs, { limit: 2 }, admin.token);
  expect(two.data.serverLogs.lines).toHaveLength(2);
});

it("a live tail on the api sees a worker process's lines; serverLogs and systemStatus see the worker", async () => {
  const ws = await connectWs(server.url, admin.token);
  const seen: any[] = [];
  const fromWorker = new Promise<any>((resolve, reject) => {
    ws.subscribe(
      { query: 'subscription { serverLogStream(level: INFO) { message level requestId source { role pid host } } }' },
      {
        next: (m) => {
          const line = (m.data as any)?.serverLogStream;
          if (m.errors) reject(new Error(JSON.stringify(m.errors)));
          seen.push(line);
          if (line?.source.role === 'worker' && line.message === 'dermagraph worker ready') resolve(line);
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
  await new Promise((r) => setTimeout(r, 500)); // the subscription is registered on Redis
  try {
    const worker = await startWorkerProcess(server, 'monitoring-w1', workers, { MONITOR_INTERVAL_MS: '1000' });
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no worker line in 30 s; saw ${JSON.stringify(seen.slice(-5))}`)), 30_000),
    );
    const line = (await Promise.race([fromWorker, timeout])) as any;
    expect(line.source.pid).toBe(worker.pid);
    expect(line.source.pid).not.toBe(process.pid);
  } finally {
    await ws.dispose();
  }
  const worker = workers[0];

  const logs = await server.gql<any>(Q.logs, { limit: 500 }, admin.token);
  const workerSource = logs.data.serverLogs.sources.find((s: any) => s.source.role === 'worker');
  expect(workerSource).toMatchObject({ answered: true, source: { pid: worker.pid } });
  expect(logs.data.serverLogs.lines.some((l: any) => l.source.pid === worker.pid)).toBe(true);

  const status = await eventually(async () => {
    const s = (await server.gql<any>(Q.status, {}, admin.token)).data?.systemStatus;
    return s?.workersSeen >= 1 ? s : undefined;
  });
  expect(status.queueDepth).toBeGreaterThanOrEqual(0);
  expect(status.process).toMatchObject({ role: 'api', pid: process.pid });
  expect(status.process.memory.rssBytes).toBeGreaterThan(0);
  expect(status.process.eventLoopDelay.windowSeconds).toBeGreaterThanOrEqual(0);
  const w = status.processes.find((p: any) => p.pid === worker.pid);
  expect(w).toMatchObject({ role: 'worker' });
  expect(w.models.length).toBeGreaterThan(0);
  expect(w.models.every((m: any) => m.device === 'cpu')).toBe(true);
  expect(w.models.some((m: any) => m.active)).toBe(true);
}, 120_000);

it('a job carries its request id into the worker; usage run on the worker is summed in modelUsage on the api', async () => {
  expect(workers.length).toBe(1);
  const [imageId] = await seedImages(server, clinician.id, ['ISIC_0000150']);
  const requestId = `o1-job-${randomUUID()}`;
  const done = await gqlWithId(
    server,
    requestId,
    `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { id status error requestId } }`,
    { id: imageId },
    clinician.token,
  );
  expect(done.errors).toBeUndefined();
  expect((done.data as any).classifyImage.status).toBe('SUCCEEDED');
  const jobId = (done.data as any).classifyImage.id;
  expect((done.data as any).classifyImage.requestId).toBe(requestId);

  const workerLine = await eventually(async () => {
    const r = await server.gql<any>(Q.logs, { limit: 500 }, admin.token);
    return r.data.serverLogs.lines.find(
      (l: any) => l.source.role === 'worker' && l.requestId === requestId && l.message === 'inference job succeeded',
    );
  });
  expect(JSON.parse(workerLine.json).jobId).toBe(jobId);

  // This api process ran no model: whatever modelUsage counts came from the worker.
  const local = await server.services.metrics.registry.getSingleMetric('dermagraph_model_inferences_total')?.get();
  expect(local?.values ?? []).toEqual([]);
  const usage = await eventually(async () => {
    const r = await server.gql<any>(Q.usage, { since: started.toISOString() }, admin.token);
    const v = r.data?.modelUsage.versions.filter((x: any) => x.requests > 0);
    return v?.length ? r.data.modelUsage : undefined;
  });
  expect(usage.resolution).toBe('minute');
  for (const v of usage.versions) {
    expect(v.failures).toBe(0);
    expect(v.p50Ms).toBeGreaterThan(0);
    expect(v.p95Ms).toBeGreaterThanOrEqual(v.p50Ms);
  }
}, 120_000);

it("an admin's audited change records the request id of the call", async () => {
  const requestId = `o1-audit-${randomUUID()}`;
  const r = await gqlWithId(
    server,
    requestId,
    `mutation($id: ID!) { setUserRole(userId: $id, role: RESEARCHER) { id role } }`,
    { id: clinician.id },
    admin.token,
  );
  expect(r.errors).toBeUndefined();
  const log = await server.gql<any>(
    `{ auditLog(filter: { action: ROLE_CHANGED }, first: 5) { edges { node { userId requestId success } } } }`,
    {},
    admin.token,
  );
  expect(log.data.auditLog.edges.map((e: any) => e.node)).toContainEqual({
    userId: clinician.id,
    requestId,
    success: true,
  });
});

it('a worker that stops leaves systemStatus at once', async () => {
  const [worker] = workers;
  const before = (await server.gql<any>(Q.status, {}, admin.token)).data.systemStatus;
  expect(before.processes.some((p: any) => p.pid === worker.pid)).toBe(true);
  worker.kill('SIGTERM');
  expect(await exited(worker)).toBe(0);
  const after = (await server.gql<any>(Q.status, {}, admin.token)).data.systemStatus;
  expect(after.workersSeen).toBe(0);
  expect(after.processes.map((p: any) => p.role)).toEqual(['api']);
  // Its lines are gone with it: serverLogs asks only the processes still there.
  const logs = await server.gql<any>(Q.logs, { limit: 10 }, admin.token);
  expect(logs.data.serverLogs.sources.map((s: any) => s.source.role)).toEqual(['api']);
}, 60_000);
