import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';
import { Q, seedImages, waitForJob } from './helpers';

/**
 * A second runner of a one-image job (a worker that lost its lock but kept going) finds the result
 * already stored: the statement that stores and finishes fails as a whole, the stored row wins, and
 * the job ends SUCCEEDED with that one result.
 */
let server: TestServer;
afterAll(() => server?.close());

/** The month's predictions as the quota counts them, and the account's all-time total on its dashboard. */
const predictionsCounted = async (token: string): Promise<{ month: number; ever: number }> => {
  const d = (await server.gql<any>(`query { myDashboard { totalPredictions predictionQuota { used } } }`, {}, token))
    .data.myDashboard;
  return { month: d.predictionQuota.used, ever: d.totalPredictions };
};

it('a duplicate run of a one-image job keeps the first result and still finishes the job', async () => {
  server = await startTestServer({ redis: false });
  const alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  const [imageId] = await seedImages(server, alice.id, ['ISIC_0000154']);
  const r = await server.gql<any>(Q.classify, { imageId, explain: false }, alice.token);
  expect(r.errors).toBeUndefined();
  const jobId = r.data.classifyImage.id;
  const first = await waitForJob(server, alice.token, jobId);
  expect(first.status).toBe('SUCCEEDED');
  // As if another runner had claimed the job before this one stored its result.
  const conn = server.services.db.orm.em.getConnection();
  await conn.execute(
    `update inference_jobs set status = 'QUEUED', stage = 'queued', attempts = 0, result_ids = '[]' where id = ?`,
    [jobId],
  );
  await server.services.inference.runner!.run({ jobId, attempt: 1, final: false });
  const rows = (await conn.execute(`select id from predictions where job_id = ?`, [jobId])) as Array<{ id: string }>;
  expect(rows.map((x) => x.id)).toEqual(first.resultIds);
  const job = (
    await server.gql<any>(`query($id: ID!) { job(id: $id) { status resultIds attempts } }`, { id: jobId }, alice.token)
  ).data.job;
  expect(job).toEqual({ status: 'SUCCEEDED', resultIds: first.resultIds, attempts: 1 });
  // The month's usage and the all-time total count the stored prediction once (the duplicate was not inserted).
  expect(await predictionsCounted(alice.token)).toEqual({ month: 1, ever: 1 });
}, 60_000);

it('a duplicate run of a batch job keeps every first result, in image order, and finishes the job once', async () => {
  const carol = await createSignedInUser(server, { role: Role.CLINICIAN });
  const images = await seedImages(server, carol.id, ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153']);
  const r = await server.gql<any>(Q.classifyMany, { imageIds: images, explain: false }, carol.token);
  expect(r.errors).toBeUndefined();
  const jobId = r.data.classifyImages.id;
  const first = await waitForJob(server, carol.token, jobId);
  expect(first).toMatchObject({ status: 'SUCCEEDED', imageCount: 3 });
  const conn = server.services.db.orm.em.getConnection();
  // As if a second runner had claimed the job without seeing the first one's results.
  await conn.execute(
    `update inference_jobs set status = 'QUEUED', stage = 'queued', attempts = 0, result_ids = '[]' where id = ?`,
    [jobId],
  );
  await server.services.inference.runner!.run({ jobId, attempt: 1, final: false });
  const rows = (await conn.execute(`select id, image_id from predictions where job_id = ?`, [jobId])) as Array<{
    id: string;
    image_id: string;
  }>;
  expect(rows).toHaveLength(3);
  const byImage = new Map(rows.map((x) => [x.image_id, x.id]));
  expect(images.map((i) => byImage.get(i))).toEqual(first.resultIds);
  const job = (
    await server.gql<any>(`query($id: ID!) { job(id: $id) { status resultIds progress } }`, { id: jobId }, carol.token)
  ).data.job;
  expect(job).toEqual({ status: 'SUCCEEDED', resultIds: first.resultIds, progress: 1 });
  expect(await predictionsCounted(carol.token)).toEqual({ month: 3, ever: 3 });
}, 60_000);
