import { rename } from 'node:fs/promises';
import { Image, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { seedImages } from '../inference/helpers';
import { eventually } from '../support/poll';

/**
 * allJobs and retryJob on a real failure: the image's stored file is taken away, so the job fails in
 * the runner (one attempt); with the file back, an admin's retry runs it to SUCCEEDED.
 */
let server: TestServer;
let admin: SignedInUser;
let clinician: SignedInUser;

const JOB = 'id kind status stage error attempts ownerId resultIds finishedAt';
const ALL = `query($status: [JobStatus!], $ownerId: ID, $first: Int) {
  allJobs(status: $status, ownerId: $ownerId, first: $first) { totalCount edges { node { ${JOB} } } }
}`;
const RETRY = `mutation($id: ID!) { retryJob(id: $id) { ${JOB} } }`;

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_ATTEMPTS: '1' } });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  clinician = await createSignedInUser(server);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

it('lists a failed job of another user with its reason, retries it to SUCCEEDED, and refuses a second retry', async () => {
  const [imageId] = await seedImages(server, clinician.id, ['ISIC_0000150']);
  const image = await server.services.db.orm.em.fork().findOneOrFail(Image, imageId);
  const file = server.services.files.path(image.sha256);
  await rename(file, `${file}.away`);
  const failed = await server.gql<any>(
    `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { ${JOB} } }`,
    { id: imageId },
    clinician.token,
  );
  const job = failed.data.classifyImage;
  expect(job).toMatchObject({ status: 'FAILED', attempts: 1, ownerId: clinician.id });
  expect(job.error).toEqual(expect.any(String));

  const list = await server.gql<any>(ALL, { status: ['FAILED'] }, admin.token);
  expect(list.errors).toBeUndefined();
  expect(list.data.allJobs.edges.map((e: any) => e.node)).toContainEqual(job);
  const mine = await server.gql<any>(ALL, { ownerId: admin.id }, admin.token);
  expect(mine.data.allJobs.totalCount).toBe(0);
  const theirs = await server.gql<any>(ALL, { ownerId: clinician.id.toUpperCase() }, admin.token);
  expect(theirs.data.allJobs.edges.map((e: any) => e.node.id)).toEqual([job.id]);

  await rename(`${file}.away`, file);
  const retried = await server.gql<any>(RETRY, { id: job.id }, admin.token);
  expect(retried.errors).toBeUndefined();
  expect(retried.data.retryJob).toMatchObject({ id: job.id, status: 'QUEUED', error: null, finishedAt: null });
  const done = await eventually(async () => {
    const r = await server.gql<any>(`query($id: ID!) { job(id: $id) { ${JOB} } }`, { id: job.id }, clinician.token);
    return r.data.job.status === 'SUCCEEDED' ? r.data.job : undefined;
  });
  expect(done).toMatchObject({ attempts: 2, error: null });
  expect(done.resultIds).toHaveLength(1);

  const again = await server.gql<any>(RETRY, { id: job.id }, admin.token);
  expect(again.errors?.[0].extensions).toMatchObject({
    code: 'CONFLICT',
    reason: 'JOB_NOT_FAILED',
    status: 'SUCCEEDED',
  });

  const audit = await server.gql<any>(
    `{ auditLog(filter: { action: JOB_RETRIED }, first: 10) { edges { node { userId actorId success details } } } }`,
    {},
    admin.token,
  );
  const rows = audit.data.auditLog.edges.map((e: any) => e.node);
  expect(rows).toContainEqual({
    userId: clinician.id,
    actorId: admin.id,
    success: true,
    details: { jobId: job.id, kind: 'CLASSIFY' },
  });
  expect(rows.some((r: any) => r.success === false && r.details.error === 'CONFLICT')).toBe(true);
}, 60_000);

it('retryJob and allJobs: admins only, garbage refused', async () => {
  for (const user of [clinician, await createSignedInUser(server, { role: Role.RESEARCHER })]) {
    expect((await server.gql<any>(ALL, {}, user.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql<any>(RETRY, { id: 'x' }, user.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  }
  expect((await server.gql<any>(ALL, {})).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await server.gql<any>(RETRY, { id: 'x' })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  for (const id of ['x', '', "1' or '1'='1", '00000000-0000-4000-8000-000000000000', 'a'.repeat(10_000)]) {
    const r = await server.gql<any>(RETRY, { id }, admin.token);
    expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  }
  for (const vars of [{ status: ['NOPE'] }, { first: 0 }, { first: 101 }, { ownerId: 'not-a-uuid' }, { first: 'x' }]) {
    const r = await server.gql<any>(ALL, vars, admin.token);
    if ('ownerId' in vars) expect(r.data.allJobs.totalCount).toBe(0);
    else expect(r.errors?.[0].extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
  }
});
