import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { CLASSIFY_STAGES, progressLog, Q, seedImages, waitForJob } from './helpers';

/** Without REDIS_URL (embedded adapters): in-process queue, in-memory progress log and pub/sub. */
let server: TestServer;
afterAll(() => server?.close());

it('runs a job in-process and streams every stage over the in-memory pub/sub', async () => {
  server = await startTestServer({ redis: false });
  expect(server.services.inference.mode).toBe('inline');
  const alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  const [imageId] = await seedImages(server, alice.id, ['ISIC_0000154']);
  const r = await server.gql<any>(Q.classify, { imageId }, alice.token); // the default classifier
  expect(r.errors).toBeUndefined();
  const events = await progressLog(server.url, alice.token, r.data.classifyImage.id);
  // The default classifier is the default-classifier ensemble: dg-gap-classifier alone, one MODEL stage.
  expect(events.map((e) => e.stage)).toEqual(CLASSIFY_STAGES);
  const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
  const p = (await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, alice.token)).data.prediction;
  expect(p.members.map((m: any) => m.model)).toEqual(['dg-gap-classifier']);
}, 60_000);
