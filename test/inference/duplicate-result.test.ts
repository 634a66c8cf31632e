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
  await conn.execute(`update inference_jobs set status = 'QUEUED', stage = 'queued', attempts = 0, result_ids = '[]' where id = ?`, [jobId]);
  await server.services.inference.runner!.run({ jobId, attempt: 1, final: false });
  const rows = (await conn.execute(`select id from predictions where job_id = ?`, [jobId])) as Array<{ id: string }>;
  expect(rows.map((x) => x.id)).toEqual(first.resultIds);
  const job = (await server.gql<any>(`query($id: ID!) { job(id: $id) { status resultIds attempts } }`, { id: jobId }, alice.token)).data.job;
  expect(job).toEqual({ status: 'SUCCEEDED', resultIds: first.resultIds, attempts: 1 });
}, 60_000);
