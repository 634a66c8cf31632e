import type { ChildProcess } from 'node:child_process';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { exited, killWorkers, startWorkerProcess } from '../support/workers';
import { CLASSIFY_STAGES, progressLog, Q, seedImages, subscribeProgress, waitForJob } from './helpers';

/**
 * Scaled-out mode: the api process only enqueues (BullMQ on the real Redis); `dermagraph worker`
 * processes (the built CLI, spawned) run the jobs and publish progress that the api's
 * subscriptions receive. A worker killed mid-job leaves the job to another, which completes it once.
 */
let server: TestServer;
let alice: SignedInUser;
const workers: ChildProcess[] = [];
const startWorker = (name: string) => startWorkerProcess(server, name, workers);

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'queue', JOB_LOCK_MS: '2000' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
}, 120_000);

afterAll(async () => {
  killWorkers(workers);
  await server?.close();
});

describe('worker mode (BullMQ on Redis)', () => {
  it("the api enqueues, a worker process runs the job, the api's subscription sees every stage in order", async () => {
    expect(server.services.inference.mode).toBe('queue');
    const worker = await startWorker('w1');
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
    const r = await server.gql<any>(Q.classify, { imageId, models: [{ model: 'dg-mlp-classifier' }] }, alice.token);
    expect(r.errors).toBeUndefined();
    const events = await progressLog(server.url, alice.token, r.data.classifyImage.id);
    expect(events.map((e) => e.stage)).toEqual(CLASSIFY_STAGES);
    const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    const p = (await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, alice.token)).data.prediction;
    expect(p.gradCam.method).toBe('GRAD_CAM');
    // A graceful stop (SIGTERM) exits 0.
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
  }, 120_000);

  it('a worker killed mid-job: another worker takes the job over and completes it exactly once', async () => {
    const names = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'];
    const imageIds = await seedImages(
      server,
      alice.id,
      Array.from({ length: 60 }, (_, i) => names[i % 4]),
    );
    const first = await startWorker('w2');
    const r = await server.gql<any>(
      Q.segment,
      { imageIds, members: [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }] },
      alice.token,
    );
    const jobId = r.data.segmentImages.id;
    const stream = await subscribeProgress(server.url, alice.token, jobId);
    while (stream.events.filter((e) => e.stage === 'PERSISTED').length < 3)
      await new Promise((res) => setTimeout(res, 5));
    first.kill('SIGKILL');
    await exited(first);
    const before = stream.events.filter((e) => e.stage === 'PERSISTED').length;
    expect(before).toBeLessThan(60);
    await startWorker('w3');
    await stream.done;
    await stream.close();
    expect(stream.errors).toEqual([]);
    const job = await waitForJob(server, alice.token, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', progress: 1 });
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    expect(stream.events.filter((e) => e.stage === 'DONE')).toHaveLength(1);
    expect(stream.events.map((e) => e.seq)).toEqual(stream.events.map((_, i) => i + 1));
    expect(Math.max(...stream.events.map((e) => e.attempt))).toBeGreaterThanOrEqual(2);
    // Exactly once: one segmentation per image of the job, in image order.
    const rows = (await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute('select image_id from segmentations where job_id = ?', [jobId])) as Array<{ image_id: string }>;
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((x) => x.image_id)).size).toBe(60);
    expect(job.resultIds).toHaveLength(60);
  }, 180_000);
});
