import { Role } from '../../src/entities';
import { startTestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { inRequestCounts } from '../inference/helpers';
import { expectNothingLost, runSoak, type SoakRoute } from './soak';

/**
 * Issue [7]: hot swap drops nothing (inline mode, jobs in the api process). Classifications, pinned and
 * unpinned, 8 at a time, while versions are uploaded, activated, rolled back and unloaded: no job fails,
 * and every result is the one of the version it records. Each soak has a server of its own: the soak
 * installs its versions of the model from scratch.
 */
/** Runs the soak over `route` on a server of its own; resolves with how many jobs were classified in the request. */
async function soakOnOwnServer(route: SoakRoute, jobs: number): Promise<number> {
  const server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_CONCURRENCY: '4' } });
  try {
    const admin = await createSignedInUser(server, { role: Role.ADMIN });
    const clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
    const before = await inRequestCounts(server);
    const counts = await runSoak(server, admin, clinician, { jobs, concurrency: 8, route });
    console.log(`hot-swap soak, inline mode, ${route}: ${JSON.stringify(counts)}`);
    expectNothingLost(counts, jobs);
    return (await inRequestCounts(server)).classified - before.classified;
  } finally {
    await server.close();
  }
}

it('200 classifications during uploads, activations, rollbacks and unloads: 0 failed, each result from the version it records', async () => {
  await soakOnOwnServer('classifyImage', 200);
}, 300_000);

it('80 uploadImages with classify and wait (classified in the request) during the same changes: 0 failed', async () => {
  // Classified in the request: a fallback to the queue is allowed, but not for most of them.
  expect(await soakOnOwnServer('uploadImages', 80)).toBeGreaterThan(40);
}, 300_000);
