import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { Plan, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { killWorkers, startWorkerProcess } from '../support/workers';
import { Q, subscribeProgress, waitForJob } from './helpers';
import { CANCEL, jobRows, segmentMany, untilPersisted } from './cancel-helpers';

/**
 * cancelJob across processes: the api process ends the job row, takes a waiting job out of BullMQ,
 * and announces the cancel on Redis; a `dermagraph worker` running the job stops between images and
 * ends its attempt quietly (no retry, no `done`).
 */
let server: TestServer;
let alice: SignedInUser;
let bull: Queue;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'queue' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN, plan: Plan.PRO });
  bull = new Queue('inference', {
    connection: { url: server.config.REDIS_URL } as never,
    prefix: `${server.config.REDIS_PREFIX}bull`,
  });
}, 120_000);

afterAll(async () => {
  killWorkers(workers);
  await bull?.close();
  await server?.close();
});

describe('cancelJob with BullMQ workers', () => {
  it('a job waiting in BullMQ is removed; the worker running a job stops between images', async () => {
    expect(server.services.inference.mode).toBe('queue');
    await startWorkerProcess(server, 'w1', workers, { JOB_IMAGE_CONCURRENCY: '2' });
    const running = await segmentMany(server, alice, 60);
    const stream = await subscribeProgress(server.url, alice.token, running);
    await untilPersisted(stream, 2);

    // The worker runs one job at a time: this one waits in BullMQ.
    const queued = await segmentMany(server, alice, 2);
    expect(await bull.getJobState(queued)).toBe('waiting');
    const q = await server.gql<any>(CANCEL, { id: queued }, alice.token);
    expect(q.data.cancelJob).toMatchObject({ status: 'CANCELLED', attempts: 0 });
    expect(await bull.getJobState(queued)).toBe('unknown');

    const r = await server.gql<any>(CANCEL, { id: running }, alice.token);
    expect(r.errors).toBeUndefined();
    expect(r.data.cancelJob).toMatchObject({ status: 'CANCELLED', attempts: 1 });
    const storedAtCancel = (await jobRows(server, running)).length;
    await stream.done;
    await stream.close();
    expect(stream.events.at(-1)).toMatchObject({ stage: 'CANCELLED', status: 'CANCELLED' });

    // The worker takes the next job once its cancelled attempt has ended.
    const next = await segmentMany(server, alice, 1);
    expect(await waitForJob(server, alice.token, next)).toMatchObject({ status: 'SUCCEEDED' });
    const stored = await jobRows(server, running);
    expect(stored.length).toBeLessThanOrEqual(storedAtCancel + 2);
    expect(stored.length).toBeLessThan(60);
    // The attempt ended quietly: completed in BullMQ (not failed, not retried), the row still CANCELLED.
    // (BullMQ may already have dropped the completed entry: 'unknown' is as good; only a failed or a
    // queued-again entry would mean a retry.)
    expect(['completed', 'unknown']).toContain(await bull.getJobState(running));
    const job = (await server.gql<any>(Q.job, { id: running }, alice.token)).data.job;
    expect(job).toMatchObject({ status: 'CANCELLED', stage: 'CANCELLED', attempts: 1 });
    expect(await jobRows(server, queued)).toEqual([]);
  }, 180_000);
});
