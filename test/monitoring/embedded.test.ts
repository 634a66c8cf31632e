import { randomUUID } from 'node:crypto';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { connectWs } from '../support/ws';
import { seedImages } from '../inference/helpers';
import { gqlWithId, Q, quietInfoLogger } from './helpers';

/** Without Redis: the same operations on the in-memory pub/sub and counters of the one process. */
let server: TestServer;
let admin: SignedInUser;
let clinician: SignedInUser;

beforeAll(async () => {
  server = await startTestServer({ redis: false, env: { JOB_MODE: 'inline' }, logger: quietInfoLogger() });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  clinician = await createSignedInUser(server);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

it('tails and lists this process’s lines, and reports itself, its models and its usage', async () => {
  const ws = await connectWs(server.url, admin.token);
  const requestId = `o1-embedded-${randomUUID()}`;
  try {
    const seen = new Promise<any>((resolve, reject) => {
      ws.subscribe(
        { query: 'subscription { serverLogStream(level: INFO) { message requestId source { role pid } } }' },
        {
          next: (m) => {
            const line = (m.data as any)?.serverLogStream;
            if (line?.requestId === requestId) resolve(line);
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 200));
    const [imageId] = await seedImages(server, clinician.id, ['ISIC_0000150']);
    const done = await gqlWithId(
      server,
      requestId,
      `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { status } }`,
      { id: imageId },
      clinician.token,
    );
    expect((done.data as any).classifyImage.status).toBe('SUCCEEDED');
    expect(await seen).toMatchObject({ source: { role: 'api', pid: process.pid } });
  } finally {
    await ws.dispose();
  }

  // The job ran in this process, under the request's id.
  const logs = await server.gql<any>(Q.logs, { limit: 500 }, admin.token);
  expect(logs.data.serverLogs.sources).toEqual([{ answered: true, source: expect.objectContaining({ role: 'api' }) }]);
  expect(
    logs.data.serverLogs.lines.some((l: any) => l.requestId === requestId && l.message === 'inference job succeeded'),
  ).toBe(true);

  const status = (await server.gql<any>(Q.status, {}, admin.token)).data.systemStatus;
  expect(status.workersSeen).toBe(0);
  expect(status.processes).toHaveLength(1);
  expect(status.processes[0].models.some((m: any) => m.active && m.device === 'cpu')).toBe(true);

  await server.services.monitoring.flush();
  const usage = await server.gql<any>(Q.usage, { since: new Date(Date.now() - 600_000).toISOString() }, admin.token);
  const ran = usage.data.modelUsage.versions.filter((v: any) => v.requests > 0);
  expect(ran.length).toBeGreaterThan(0);
  expect(ran.every((v: any) => v.failures === 0 && v.p50Ms > 0)).toBe(true);
});
