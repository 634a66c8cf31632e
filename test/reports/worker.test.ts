import type { ChildProcess } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { killWorkers, startWorkerProcess } from '../support/workers';
import { seedImages, subscribeProgress } from '../inference/helpers';
import { download, R } from './helpers';

/**
 * Scaled out: the api only enqueues REPORT jobs; a `dermagraph worker` process (the built CLI) makes the
 * file, and the api's subscription and `wait: true` see it through Redis.
 */
let server: TestServer;
let alice: SignedInUser;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'queue', REPORT_INLINE_MAX_IMAGES: '0' } });
  alice = await createSignedInUser(server);
  await startWorkerProcess(server, 'reports-w1', workers);
}, 120_000);

afterAll(async () => {
  killWorkers(workers);
  await server?.close();
});

it('a worker process makes a REPORT job; the api answers wait: true with the file and streams its progress', async () => {
  expect(server.services.inference.runner).toBeNull();
  const imageIds = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000151']);
  const queued = await server.gql<any>(R.generate, { input: { kind: 'CSV', imageIds } }, alice.token);
  expect(queued.errors).toBeUndefined();
  const { jobId, id } = queued.data.generateReport;
  const stream = await subscribeProgress(server.url, alice.token, jobId);
  await stream.done;
  await stream.close();
  expect(stream.events.map((e) => e.stage)).toEqual(['QUEUED', 'RENDERING', 'RENDERING', 'DONE']);
  const done = (await server.gql<any>(R.report, { id }, alice.token)).data.report;
  expect(done).toMatchObject({ status: 'DONE', imageCount: 2 });
  const rows = parse((await download(server, done.url)).body, { columns: true, bom: true }) as { image_id: string }[];
  expect(rows.map((r) => r.image_id)).toEqual(imageIds);

  const waited = await server.gql<any>(R.generate, { input: { kind: 'CSV', imageIds }, wait: true }, alice.token);
  expect(waited.data.generateReport).toMatchObject({ status: 'DONE', url: expect.any(String) });
}, 120_000);
