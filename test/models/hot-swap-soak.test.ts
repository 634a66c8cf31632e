import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { expectNothingLost, runSoak } from './soak';

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
  expectNothingLost(counts, 200);
}, 300_000);

describe('uploads classified in the request', () => {
  // A server of its own: the soak installs its versions of the model from scratch.
  let own: TestServer;
  beforeAll(async () => {
    own = await startTestServer({ env: { JOB_MODE: 'inline', JOB_CONCURRENCY: '4' } });
  }, 60_000);
  afterAll(async () => {
    await own?.close();
  });

  it('80 uploadImages with classify and wait (classified in the request) during the same changes: 0 failed', async () => {
    const server = own;
    const admin = await createSignedInUser(server, { role: Role.ADMIN });
    const clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
    const metric = () =>
      server.services.metrics.registry.getSingleMetric('dermagraph_inference_in_request_total')?.get();
    const classified = async () => (await metric())?.values.find((v) => v.labels.outcome === 'classified')?.value ?? 0;
    const before = await classified();
    const counts = await runSoak(server, admin, clinician, { jobs: 80, concurrency: 8, route: 'uploadImages' });
    console.log(`hot-swap soak, uploads classified in the request: ${JSON.stringify(counts)}`);
    expectNothingLost(counts, 80);
    // They were classified in the request (a fallback to the queue would be allowed, but not all of them).
    expect((await classified()) - before).toBeGreaterThan(40);
  }, 300_000);
});
