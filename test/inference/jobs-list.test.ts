import { Plan, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { JOB_FIELDS, Q, seedImages, subscribeProgress, waitForJob } from './helpers';
import { CANCEL, segmentMany } from './cancel-helpers';

/**
 * `jobs`: the caller's jobs, newest first, as `job(id)` would show them (a job whose images include
 * a patient no longer shared with its owner is left out). A page reload finds the jobs still going.
 */
let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;
let researcher: SignedInUser;
let admin: SignedInUser;
/** Alice's jobs, oldest first: three finished classifications, a cancelled segmentation. */
const done: string[] = [];
let cancelled: string;

const JOBS = `query($status: [JobStatus!], $kind: JobKind, $since: DateTime, $until: DateTime, $first: Int, $after: String) {
  jobs(status: $status, kind: $kind, since: $since, until: $until, first: $first, after: $after) {
    totalCount edges { cursor node { ${JOB_FIELDS} } } pageInfo { hasNextPage endCursor }
  }
}`;

async function list(token: string, vars: Record<string, unknown> = {}) {
  const r = await server.gql<any>(JOBS, vars, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.jobs as {
    totalCount: number;
    edges: Array<{ cursor: string; node: Record<string, any> }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
const ids = (page: Awaited<ReturnType<typeof list>>) => page.edges.map((e) => e.node.id);

async function classify(user: SignedInUser, imageId: string): Promise<string> {
  const r = await server.gql<any>(Q.classify, { imageId, models: [{ model: 'dg-mlp-classifier' }] }, user.token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.classifyImage.id;
}

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_CONCURRENCY: '1' } });
  [alice, bob, researcher, admin] = await Promise.all([
    createSignedInUser(server, { role: Role.CLINICIAN, plan: Plan.PRO }),
    createSignedInUser(server, { role: Role.CLINICIAN, plan: Plan.PRO }),
    createSignedInUser(server, { role: Role.RESEARCHER }),
    createSignedInUser(server, { role: Role.ADMIN }),
  ]);
  const images = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153']);
  for (const imageId of images) {
    const id = await classify(alice, imageId);
    expect(await waitForJob(server, alice.token, id)).toMatchObject({ status: 'SUCCEEDED' });
    done.push(id);
  }
  cancelled = await segmentMany(server, alice, 2);
  expect((await server.gql<any>(CANCEL, { id: cancelled }, alice.token)).errors).toBeUndefined();
}, 120_000);

afterAll(() => server?.close());

describe('jobs', () => {
  it('a page reload finds the jobs still going, and can follow one', async () => {
    const running = await segmentMany(server, alice, 60);
    const queued = await segmentMany(server, alice, 1); // one job at a time: it waits
    // A fresh client that remembers nothing but its token.
    const going = await list(alice.token, { status: ['QUEUED', 'RUNNING'] });
    expect(ids(going)).toEqual([queued, running]);
    expect(going.totalCount).toBe(2);
    expect(going.edges[0].node.status).toBe('QUEUED');
    expect(['QUEUED', 'RUNNING']).toContain(going.edges[1].node.status);
    const stream = await subscribeProgress(server.url, alice.token, running);
    for (const id of [queued, running]) {
      expect((await server.gql<any>(CANCEL, { id }, alice.token)).errors).toBeUndefined();
    }
    await stream.done;
    await stream.close();
    expect(stream.events[0]).toMatchObject({ stage: 'QUEUED', seq: 1 });
    expect(stream.events.at(-1)).toMatchObject({ stage: 'CANCELLED', status: 'CANCELLED' });
    expect((await list(alice.token, { status: ['QUEUED', 'RUNNING'] })).totalCount).toBe(0);
    const all = await list(alice.token);
    expect(ids(all)).toEqual([queued, running, cancelled, ...[...done].reverse()]);
  }, 120_000);

  it('pages newest first with cursors bound to the query; totalCount counts every page', async () => {
    const all = ids(await list(alice.token, { first: 100 }));
    expect(all).toHaveLength(6);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await list(alice.token, { first: 4, after });
      expect(page.totalCount).toBe(6);
      expect(page.edges.length).toBeLessThanOrEqual(4);
      seen.push(...ids(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    const first = await list(alice.token, { first: 4 });
    const wrong = await server.gql<any>(
      JOBS,
      { first: 4, after: first.pageInfo.endCursor, kind: 'CLASSIFY' },
      alice.token,
    );
    expect(wrong.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
      reason: 'CURSOR_QUERY_MISMATCH',
    });
    // Another caller cannot reuse Alice's cursor either.
    const stolen = await server.gql<any>(JOBS, { first: 4, after: first.pageInfo.endCursor }, bob.token);
    expect(stolen.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CURSOR_QUERY_MISMATCH' });
    const tooMany = await server.gql<any>(JOBS, { first: 101 }, alice.token);
    expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('filters by status, kind and creation time', async () => {
    const succeeded = await list(alice.token, { status: ['SUCCEEDED'] });
    expect(ids(succeeded)).toEqual([...done].reverse());
    expect(succeeded.totalCount).toBe(3);
    expect(ids(await list(alice.token, { status: ['SUCCEEDED', 'FAILED'], kind: 'CLASSIFY' }))).toEqual(
      [...done].reverse(),
    );
    expect(ids(await list(alice.token, { status: ['FAILED'] }))).toEqual([]);
    const segments = await list(alice.token, { kind: 'SEGMENT' });
    expect(segments.totalCount).toBe(3);
    expect(segments.edges.every((e) => e.node.kind === 'SEGMENT' && e.node.status === 'CANCELLED')).toBe(true);
    expect(ids(await list(alice.token, { status: ['CANCELLED'], kind: 'CLASSIFY' }))).toEqual([]);
    // [since, until): the second classification up to (not including) the cancelled segmentation.
    const second = (await server.gql<any>(Q.job, { id: done[1] }, alice.token)).data.job.createdAt;
    const cut = (await server.gql<any>(Q.job, { id: cancelled }, alice.token)).data.job.createdAt;
    expect(ids(await list(alice.token, { since: second, until: cut }))).toEqual([done[2], done[1]]);
  });

  it("shows only the caller's jobs, and hides one whose patient is no longer shared", async () => {
    // Bob works on a patient of Alice's that she shares with him.
    const [aliceImage] = await seedImages(server, alice.id, ['ISIC_0000154']);
    const conn = server.services.db.orm.em.fork().getConnection();
    const [{ patient_id: patientId }] = (await conn.execute('select patient_id from images where id = ?', [
      aliceImage,
    ])) as Array<{ patient_id: string }>;
    await conn.execute('insert into patient_shares (patient_id, user_id, created_at) values (?, ?, now())', [
      patientId,
      bob.id,
    ]);
    const bobsJob = await classify(bob, aliceImage);
    await waitForJob(server, bob.token, bobsJob);
    expect(ids(await list(bob.token))).toEqual([bobsJob]);
    expect(ids(await list(alice.token))).not.toContain(bobsJob);
    await conn.execute('delete from patient_shares where patient_id = ? and user_id = ?', [patientId, bob.id]);
    const after = await list(bob.token);
    expect(after).toMatchObject({ totalCount: 0, edges: [] });
    // A researcher sees no patient, so no job; an admin lists the jobs they started (none here).
    expect(await list(researcher.token)).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
    expect(await list(admin.token)).toMatchObject({ totalCount: 0, edges: [] });
    expect((await server.gql<any>(JOBS, {})).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
