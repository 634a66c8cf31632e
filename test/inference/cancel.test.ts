import { Plan, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, seedImages, subscribeProgress, waitForJob } from './helpers';
import { CANCEL, jobRows, segmentMany, untilPersisted } from './cancel-helpers';

/**
 * cancelJob in embedded mode (one job at a time): a queued job is taken off the queue and never
 * runs; a running one stops between images, keeping what it stored; a job that has ended is a
 * CONFLICT; someone else's job is NOT_FOUND. A cancelled job's unrun images leave the quota.
 */
let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;
/** On the FREE plan, whose segmentations quota (100 here) the first test fills. */
let carol: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      JOB_MODE: 'inline',
      JOB_CONCURRENCY: '1',
      JOB_IMAGE_CONCURRENCY: '2',
      QUOTA_FREE_SEGMENTATIONS_PER_MONTH: '100',
    },
  });
  [alice, bob, admin, carol] = await Promise.all([
    createSignedInUser(server, { role: Role.CLINICIAN, plan: Plan.PRO }),
    createSignedInUser(server, { role: Role.CLINICIAN, plan: Plan.PRO }),
    createSignedInUser(server, { role: Role.ADMIN, plan: Plan.PRO }),
    createSignedInUser(server, { role: Role.CLINICIAN }),
  ]);
}, 60_000);

afterAll(() => server?.close());

const cancel = (id: string, token: string) => server.gql<any>(CANCEL, { id }, token);

describe('cancelJob', () => {
  it('a queued job never runs and frees its quota; a running job stops between images and keeps its stored results', async () => {
    const running = await segmentMany(server, carol, 60);
    const runningStream = await subscribeProgress(server.url, carol.token, running);
    await untilPersisted(runningStream, 2);

    // One job at a time: this one waits. With it the month's 100 segmentations are all spoken for.
    const queued = await segmentMany(server, carol, 40);
    expect((await server.gql<any>(Q.job, { id: queued }, carol.token)).data.job.status).toBe('QUEUED');
    const [extra] = await seedImages(server, carol.id, ['ISIC_0000150']);
    const refused = await server.gql<any>(
      Q.segment,
      { imageIds: [extra], members: [{ model: 'dg-seg-stats' }] },
      carol.token,
    );
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED' });

    const queuedStream = await subscribeProgress(server.url, carol.token, queued);
    const q = await cancel(queued, carol.token);
    expect(q.errors).toBeUndefined();
    expect(q.data.cancelJob).toMatchObject({
      id: queued,
      status: 'CANCELLED',
      stage: 'CANCELLED',
      attempts: 0,
      startedAt: null,
    });
    expect(q.data.cancelJob.finishedAt).not.toBeNull();
    await queuedStream.done;
    await queuedStream.close();
    expect(queuedStream.errors).toEqual([]);
    expect(queuedStream.events.map((e) => [e.stage, e.status])).toEqual([
      ['QUEUED', 'QUEUED'],
      ['CANCELLED', 'CANCELLED'],
    ]);
    // Its 40 unrun images no longer count against the quota.
    const accepted = await server.gql<any>(
      Q.segment,
      { imageIds: [extra], members: [{ model: 'dg-seg-stats' }] },
      carol.token,
    );
    expect(accepted.errors).toBeUndefined();
    const after = accepted.data.segmentImages.id;

    const r = await cancel(running, carol.token);
    expect(r.errors).toBeUndefined();
    expect(r.data.cancelJob).toMatchObject({ id: running, status: 'CANCELLED', stage: 'CANCELLED', attempts: 1 });
    const storedAtCancel = (await jobRows(server, running)).length;
    await runningStream.done;
    await runningStream.close();
    expect(runningStream.errors).toEqual([]);
    expect(runningStream.events.at(-1)).toMatchObject({ stage: 'CANCELLED', status: 'CANCELLED' });
    expect(runningStream.events.filter((e) => e.stage === 'DONE')).toEqual([]);

    // The next job runs once the cancelled one's runner has let go of the only slot.
    expect(await waitForJob(server, carol.token, after)).toMatchObject({ status: 'SUCCEEDED' });
    const stored = await jobRows(server, running);
    // Images in flight at the cancel (two at a time here) may have been storing already; no other starts.
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(stored.length).toBeLessThanOrEqual(storedAtCancel + 2);
    expect(stored.length).toBeLessThan(60);
    const job = (await server.gql<any>(Q.job, { id: running }, carol.token)).data.job;
    expect(job).toMatchObject({ status: 'CANCELLED', stage: 'CANCELLED' });
    // A row counted at the cancel may be one of the two in flight, whose statement found the job no longer
    // RUNNING: it is stored but not the job's. Every result stored before the cancel is the job's.
    expect(job.resultIds.length).toBeGreaterThanOrEqual(storedAtCancel - 2);
    expect(job.resultIds.every((id: string) => stored.includes(id))).toBe(true);
    // The cancelled queued job never ran.
    expect(await jobRows(server, queued)).toEqual([]);
    expect((await server.gql<any>(Q.job, { id: queued }, carol.token)).data.job).toMatchObject({
      status: 'CANCELLED',
      attempts: 0,
      startedAt: null,
    });
  }, 180_000);

  it('a job that has ended is a CONFLICT with reason JOB_FINISHED and its status', async () => {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000151']);
    const r = await server.gql<any>(Q.classify, { imageId, models: [{ model: 'dg-mlp-classifier' }] }, alice.token);
    const id = r.data.classifyImage.id;
    expect(await waitForJob(server, alice.token, id)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await cancel(id, alice.token);
    expect(done.data).toBeNull();
    expect(done.errors?.[0].extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'JOB_FINISHED',
      status: 'SUCCEEDED',
      field: 'id',
    });
    // A second cancel of a cancelled job: the same.
    const queued = await segmentMany(server, alice, 2);
    expect((await cancel(queued, alice.token)).errors).toBeUndefined();
    expect((await cancel(queued, alice.token)).errors?.[0].extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'JOB_FINISHED',
      status: 'CANCELLED',
    });
  }, 120_000);

  it("another user's job, an unknown id and a malformed one are NOT_FOUND; an admin may cancel any job", async () => {
    const id = await segmentMany(server, alice, 3);
    for (const [jobId, token] of [
      [id, bob.token],
      ['00000000-0000-4000-8000-000000000000', alice.token],
      ['not-a-uuid', alice.token],
    ]) {
      const r = await cancel(jobId, token);
      expect(r.data).toBeNull();
      expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    // Bob's attempt changed nothing.
    expect(['QUEUED', 'RUNNING']).toContain((await server.gql<any>(Q.job, { id }, alice.token)).data.job.status);
    const byAdmin = await cancel(id, admin.token);
    expect(byAdmin.errors).toBeUndefined();
    expect(byAdmin.data.cancelJob.status).toBe('CANCELLED');
    // A subscription opened after the cancel replays the job's events and ends with it.
    const late = await subscribeProgress(server.url, alice.token, id);
    await late.done;
    await late.close();
    expect(late.events.at(-1)).toMatchObject({
      stage: 'CANCELLED',
      status: 'CANCELLED',
      message: 'cancelled by an admin',
    });
  }, 120_000);

  it('a runner that missed the announcement stops at its next store (the row is the truth)', async () => {
    const id = await segmentMany(server, alice, 60);
    while ((await jobRows(server, id)).length < 2) await new Promise((r) => setTimeout(r, 5));
    // Ended in the database only: no pub/sub message reaches the runner.
    const em = server.services.db.orm.em.fork();
    expect(await server.services.inference.jobs.cancel(em, id)).not.toBeNull();
    const storedAtCancel = (await jobRows(server, id)).length;
    const next = await segmentMany(server, alice, 1);
    expect(await waitForJob(server, alice.token, next)).toMatchObject({ status: 'SUCCEEDED' });
    const stored = await jobRows(server, id);
    // At most one more store per image in flight (two) before the runner saw the job was no longer RUNNING.
    expect(stored.length).toBeLessThanOrEqual(storedAtCancel + 2);
    expect(stored.length).toBeLessThan(60);
    expect((await server.gql<any>(Q.job, { id }, alice.token)).data.job.status).toBe('CANCELLED');
    const stages = (await server.services.inference.progress.history(id)).map((e) => e.stage);
    expect(stages).not.toContain('done');
  }, 180_000);
});
