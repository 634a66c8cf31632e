import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { runSoak } from './soak';

/**
 * Issue [7]: hot swap drops nothing (inline mode, jobs in the api process). 200 classifications,
 * pinned and unpinned, 8 at a time, while versions are uploaded, activated, rolled back and
 * unloaded: no job fails, and every result is the one of the version it records.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_CONCURRENCY: '4' } });
}, 60_000);
afterAll(async () => {
  await server?.close();
});

it('200 classifications during uploads, activations, rollbacks and unloads: 0 failed, each result from the version it records', async () => {
  const admin = await createSignedInUser(server, { role: Role.ADMIN });
  const clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
  const counts = await runSoak(server, admin, clinician, { jobs: 200, concurrency: 8 });
  console.log(`hot-swap soak, inline mode: ${JSON.stringify(counts)}`);
  expect(counts.failed).toBe(0);
  expect(counts.wrongVersion).toBe(0);
  expect(counts.succeeded).toBe(200);
  expect(Object.keys(counts.refusedAtEnqueue).filter((c) => c !== 'MODEL_UNAVAILABLE')).toEqual([]);
  expect(counts.registryChanges).toBeGreaterThanOrEqual(10);
  expect(counts.pinned).toBeGreaterThan(50);
  expect(counts.unpinned).toBeGreaterThan(50);
  // The swaps happened while jobs ran: results came from more than one version.
  expect(Object.keys(counts.versionsSeen).length).toBeGreaterThan(1);
}, 300_000);
