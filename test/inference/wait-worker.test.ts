import type { ChildProcess } from 'node:child_process';
import { Role } from '../../src/entities';
import { eventually } from '../support/poll';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { killWorkers, startWorkerProcess } from '../support/workers';
import { JOB_FIELDS, Q, seedImages } from './helpers';

/**
 * `wait: true` in scaled-out mode: the api process only queues, a `dermagraph worker` process runs
 * the job, and its progress events (Redis pub/sub) end the api's wait. A client that leaves while
 * waiting releases the wait's subscription at once (not at JOB_WAIT_TIMEOUT_MS).
 */
const CLASSIFY = `mutation($imageId: ID!, $wait: Boolean) { classifyImage(imageId: $imageId, wait: $wait) { ${JOB_FIELDS} } }`;

let server: TestServer;
let alice: SignedInUser;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  // A wait longer than any test: only the job's end or the client leaving may end it.
  server = await startTestServer({ env: { JOB_MODE: 'queue', JOB_WAIT_TIMEOUT_MS: '600000' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
}, 120_000);

afterAll(async () => {
  killWorkers(workers);
  await server?.close();
});

/** Subscribers of the job's progress channel on Redis, over every process. */
async function subscribers(jobId: string): Promise<number> {
  const channel = `${server.config.REDIS_PREFIX}INFERENCE_PROGRESS:${jobId}`;
  const [, n] = (await server.services.redis!.main.pubsub('NUMSUB', channel)) as [string, number];
  return Number(n);
}

async function newestJobId(): Promise<string | null> {
  const rows = (await server.services.db.orm.em
    .fork()
    .execute('select id from inference_jobs where owner_id = ? order by created_at desc limit 1', [
      alice.id,
    ])) as Array<{ id: string }>;
  return rows[0]?.id ?? null;
}

describe('wait: true with BullMQ workers', () => {
  it('a client that leaves while waiting: the wait ends and its subscription is released', async () => {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
    const client = new AbortController();
    const answer = fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: CLASSIFY, variables: { imageId, wait: true } }),
      signal: client.signal,
    }).catch((e: Error) => e.name);
    let jobId: string | null = null;
    await eventually(async () => (jobId = await newestJobId()) !== null, { what: 'the job is recorded' });
    // No worker runs: the mutation is waiting, subscribed to the job's channel.
    await eventually(async () => (await subscribers(jobId!)) === 1, { what: 'the wait subscribed' });
    client.abort();
    expect(await answer).toBe('AbortError');
    await eventually(async () => (await subscribers(jobId!)) === 0, {
      what: 'the subscription is released',
    });
  }, 60_000);

  it("a worker process runs the job; its events end the api's wait with the job SUCCEEDED", async () => {
    await startWorkerProcess(server, 'w1', workers);
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000184']);
    const r = await server.gql<any>(CLASSIFY, { imageId, wait: true }, alice.token);
    expect(r.errors).toBeUndefined();
    const job = r.data.classifyImage;
    expect(job).toMatchObject({ status: 'SUCCEEDED', progress: 1, attempts: 1 });
    const p = (await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, alice.token)).data.prediction;
    expect(p).toMatchObject({ imageId, jobId: job.id });
    expect(p.gradCam.overlayUrl).toMatch(/^http/);
    await eventually(async () => (await subscribers(job.id)) === 0, {
      what: 'the subscription is released',
    });
  }, 120_000);
});
