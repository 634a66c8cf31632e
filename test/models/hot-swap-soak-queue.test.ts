import type { ChildProcess } from 'node:child_process';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { killWorkers, startWorkerProcess } from '../support/workers';
import { expectNothingLost, runSoak } from './soak';

/**
 * Issue [7]: hot swap drops nothing in queue mode. The api process enqueues on BullMQ; two
 * `dermagraph worker` processes run the jobs and follow the admin's changes over Redis (loading
 * uploaded versions from the shared DATA_DIR). Same soak as the inline test: 0 failed jobs.
 */
let server: TestServer;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'queue' } });
  await Promise.all([
    startWorkerProcess(server, 'w1', workers, { JOB_CONCURRENCY: '2' }),
    startWorkerProcess(server, 'w2', workers, { JOB_CONCURRENCY: '2' }),
  ]);
}, 180_000);
afterAll(async () => {
  killWorkers(workers);
  await server?.close();
});

it('200 classifications on two worker processes during uploads, activations, rollbacks and unloads: 0 failed', async () => {
  expect(server.services.inference.mode).toBe('queue');
  const admin = await createSignedInUser(server, { role: Role.ADMIN });
  const clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
  const counts = await runSoak(server, admin, clinician, { jobs: 200, concurrency: 8 });
  console.log(`hot-swap soak, queue mode (2 workers): ${JSON.stringify(counts)}`);
  expectNothingLost(counts, 200);
}, 400_000);
