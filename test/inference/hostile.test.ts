import { randomUUID } from 'node:crypto';
import { InferenceJob, JobKind, Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, seedImages, subscribeProgress, waitForJob } from './helpers';

let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;
let admin: SignedInUser;
let researcher: SignedInUser;
let aliceImages: string[];
let bobImages: string[];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline', QUOTA_FREE_PREDICTIONS_PER_MONTH: '4' } });
  [alice, bob, admin, researcher] = await Promise.all([
    createSignedInUser(server, { role: Role.CLINICIAN }),
    createSignedInUser(server, { role: Role.CLINICIAN }),
    createSignedInUser(server, { role: Role.ADMIN }),
    createSignedInUser(server, { role: Role.RESEARCHER }),
  ]);
  aliceImages = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154']);
  bobImages = await seedImages(server, bob.id, ['ISIC_0000184']);
}, 60_000);

afterAll(() => server?.close());

const seg = [{ model: 'dg-seg-stats' }, { model: 'dg-seg-skin-distance' }];
const codeOf = (r: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => r.errors?.[0]?.extensions;

describe('inference: hostile input', () => {
  it('refuses negative and all-zero weights, naming the field', async () => {
    for (const weights of [
      [1, -1],
      [0, 0],
    ]) {
      const r = await server.gql<any>(
        Q.segment,
        { imageIds: [aliceImages[0]], members: seg.map((m, i) => ({ ...m, weight: weights[i] })) },
        alice.token,
      );
      expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'members.weight' });
    }
    const r = await server.gql<any>(
      Q.classify,
      { imageId: aliceImages[0], models: [{ model: 'dg-gap-classifier', weight: -2 }] },
      alice.token,
    );
    expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'models.weight' });
  });

  it('refuses a threshold outside 0..1', async () => {
    for (const threshold of [-0.01, 1.5]) {
      const r = await server.gql<any>(Q.segment, { imageIds: [aliceImages[0]], members: seg, threshold }, alice.token);
      expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'threshold' });
    }
  });

  it('answers MODEL_UNAVAILABLE for an unknown model or version, BAD_USER_INPUT for the wrong task or a bad device', async () => {
    let r = await server.gql<any>(
      Q.classify,
      { imageId: aliceImages[0], models: [{ model: 'no-such-model' }] },
      alice.token,
    );
    expect(codeOf(r)).toMatchObject({ code: 'MODEL_UNAVAILABLE', field: 'models[0].model' });
    r = await server.gql<any>(
      Q.segment,
      { imageIds: [aliceImages[0]], members: [{ model: 'dg-seg-stats', version: '9.9.9' }] },
      alice.token,
    );
    expect(codeOf(r)).toMatchObject({ code: 'MODEL_UNAVAILABLE', field: 'members[0].version' });
    r = await server.gql<any>(
      Q.segment,
      { imageIds: [aliceImages[0]], members: [{ model: 'dg-gap-classifier' }] },
      alice.token,
    );
    expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'members[0].model' });
    r = await server.gql<any>(
      Q.segment,
      { imageIds: [aliceImages[0]], members: [{ model: 'dg-seg-stats', device: { kind: 'CPU', index: 0 } }] },
      alice.token,
    );
    expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'members[0].device.index' });
    // A device the DeviceKind enum does not have is refused before any resolver runs.
    r = await server.gql<any>(
      Q.segment,
      { imageIds: [aliceImages[0]], members: [{ model: 'dg-seg-stats', device: { kind: 'tpu; rm -rf' } }] },
      alice.token,
    );
    expect(r.status).toBe(400);
    expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(r.errors?.[0].message).toMatch(/DeviceKind/);
    r = await server.gql<any>(Q.classify, { imageId: aliceImages[0], targetClass: 'unicorn' }, alice.token);
    expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'targetClass' });
  });

  it("answers NOT_FOUND for another user's image, a missing one and a malformed id; nothing is queued", async () => {
    for (const id of [bobImages[0], randomUUID(), 'not-an-id']) {
      const c = await server.gql<any>(Q.classify, { imageId: id }, alice.token);
      expect(codeOf(c)).toMatchObject({ code: 'NOT_FOUND' });
      const s = await server.gql<any>(Q.segment, { imageIds: [aliceImages[0], id], members: seg }, alice.token);
      expect(codeOf(s)).toMatchObject({ code: 'NOT_FOUND' });
    }
    const [{ n }] = (await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute('select count(*)::int as n from inference_jobs')) as Array<{ n: number }>;
    expect(n).toBe(0);
  });

  it('limits one call to 100 images with a clear error (10 000 ids)', async () => {
    const ids = Array.from({ length: 10_000 }, () => randomUUID());
    const r = await server.gql<any>(Q.segment, { imageIds: ids, members: seg }, alice.token);
    expect(codeOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds', max: 100 });
    expect(r.errors![0].message).toMatch(/at most 100 images/);
  });

  it('lets only the owner and admins read or subscribe to a job and its results; researchers cannot run inference', async () => {
    const r = await server.gql<any>(Q.classify, { imageId: aliceImages[0], explain: false }, alice.token);
    const job = await waitForJob(server, alice.token, r.data.classifyImage.id);
    expect((await server.gql<any>(Q.job, { id: job.id }, bob.token)).data.job).toBeNull();
    expect((await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, bob.token)).data.prediction).toBeNull();
    expect((await server.gql<any>(Q.job, { id: job.id }, admin.token)).data.job.id).toBe(job.id);
    expect((await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, admin.token)).data.prediction.id).toBe(
      job.resultIds[0],
    );
    const spy = await subscribeProgress(server.url, bob.token, job.id);
    await spy.done;
    await spy.close();
    expect(spy.events).toEqual([]);
    expect(JSON.stringify(spy.errors)).toMatch(/NOT_FOUND/);
    const anon = await server.gql<any>(Q.job, { id: job.id });
    expect(codeOf(anon)).toMatchObject({ code: 'UNAUTHENTICATED' });
    const res = await server.gql<any>(Q.classify, { imageId: aliceImages[0] }, researcher.token);
    expect(codeOf(res)).toMatchObject({ code: 'FORBIDDEN' });
  }, 60_000);

  it('stops at the monthly prediction quota with RATE_LIMITED', async () => {
    // 1 prediction so far; the plan allows 4.
    for (let i = 0; i < 3; i++) {
      const r = await server.gql<any>(Q.classify, { imageId: aliceImages[i], explain: false }, alice.token);
      expect(r.errors).toBeUndefined();
      await waitForJob(server, alice.token, r.data.classifyImage.id);
    }
    const r = await server.gql<any>(Q.classify, { imageId: aliceImages[0], explain: false }, alice.token);
    expect(codeOf(r)).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED', limit: 4, used: 4 });
  }, 60_000);

  it('a model unloaded mid-job: the running job finishes on the version it began with; a job queued after fails cleanly', async () => {
    const many = await seedImages(
      server,
      alice.id,
      Array.from({ length: 12 }, (_, i) => ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'][i % 4]),
    );
    const r = await server.gql<any>(Q.segment, { imageIds: many, members: seg }, alice.token);
    const jobId = r.data.segmentImages.id;
    const stream = await subscribeProgress(server.url, alice.token, jobId);
    while (!stream.events.some((e) => e.stage === 'PERSISTED')) await new Promise((res) => setTimeout(res, 5));
    await server.services.models.unload('dg-seg-stats', '1.0.0');
    await stream.done;
    await stream.close();
    const job = await waitForJob(server, alice.token, jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.resultIds).toHaveLength(12);
    const s = (await server.gql<any>(Q.segmentation, { id: job.resultIds[11] }, alice.token)).data.segmentation;
    expect(s.members[0]).toMatchObject({ model: 'dg-seg-stats', version: '1.0.0' });

    const again = await server.gql<any>(Q.segment, { imageIds: [many[0]], members: seg }, alice.token);
    expect(codeOf(again)).toMatchObject({ code: 'MODEL_UNAVAILABLE' });
  }, 90_000);
});

describe('research metrics', () => {
  it('are de-identified for researchers: hashed ids stable within an export, different across exports; summary counts', async () => {
    const q = `query($first: Int, $after: String, $filter: MetricsFilter) { lesionMetrics(first: $first, after: $after, filter: $filter) { exportId pageInfo { hasNextPage endCursor } edges { cursor node { id subject image createdAt modelVersions severity label confidence malignant metrics { areaPercent circularity } } } } }`;
    const p1 = await server.gql<any>(q, { first: 5 }, researcher.token);
    expect(p1.errors).toBeUndefined();
    const c1 = p1.data.lesionMetrics;
    expect(c1.edges).toHaveLength(5);
    expect(c1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await server.gql<any>(q, { first: 100, after: c1.pageInfo.endCursor }, researcher.token)).data
      .lesionMetrics;
    expect(p2.exportId).toBe(c1.exportId);
    const all = [...c1.edges, ...p2.edges].map((e: any) => e.node);
    expect(all.length).toBe(12);
    expect(new Set(all.map((n: any) => n.id)).size).toBe(all.length);
    // One patient (alice's second one) holds all 12 images: one subject hash.
    expect(new Set(all.map((n: any) => n.subject)).size).toBe(1);
    const text = JSON.stringify([c1, p2]);
    const em = server.services.db.orm.em.fork();
    const real = (await em.getConnection().execute('select id, image_id, patient_id from segmentations')) as Array<
      Record<string, string>
    >;
    for (const row of real) for (const v of Object.values(row)) expect(text).not.toContain(v);
    const other = (await server.gql<any>(q, { first: 5 }, researcher.token)).data.lesionMetrics;
    expect(other.exportId).not.toBe(c1.exportId);
    expect(other.edges[0].node.id).not.toBe(c1.edges[0].node.id);
    expect(codeOf(await server.gql<any>(q, { first: 5 }, alice.token))).toMatchObject({ code: 'FORBIDDEN' });
    expect(codeOf(await server.gql<any>(q, { first: 5, after: 'garbage' }, researcher.token))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });

    const filtered = (
      await server.gql<any>(
        q,
        { first: 100, filter: { model: 'dg-seg-stats', version: '1.0.0', severity: all[0].severity } },
        researcher.token,
      )
    ).data.lesionMetrics;
    expect(filtered.edges.length).toBe(all.filter((n: any) => n.severity === all[0].severity).length);

    const summary = await server.gql<any>(
      `{ lesionMetricsSummary { segmentations predictions bySeverity { severity count } byLabel { label count } byModelVersion { modelVersion count areaPercent { mean p50 p95 } circularity { mean p50 } } } }`,
      {},
      researcher.token,
    );
    expect(summary.errors).toBeUndefined();
    const s = summary.data.lesionMetricsSummary;
    expect(s.segmentations).toBe(12);
    expect(s.predictions).toBe(4);
    expect(s.bySeverity.reduce((n: number, x: any) => n + x.count, 0)).toBe(12);
    // Each member with its own masks, then the ensemble with its own (test/inference/ensemble-members.test.ts).
    expect(s.byModelVersion.map((x: any) => x.modelVersion)).toEqual([
      'dg-seg-skin-distance@1.0.0',
      'dg-seg-stats@1.0.0',
      'dg-seg-stats@1.0.0 (w 0.50) + dg-seg-skin-distance@1.0.0 (w 0.50)',
    ]);
    const mean = all.reduce((n: number, x: any) => n + x.metrics.areaPercent, 0) / all.length;
    expect(s.byModelVersion[2].areaPercent.mean).toBeCloseTo(mean, 6);
  }, 60_000);
});

describe('a job that keeps failing', () => {
  it('is retried with backoff, then ends FAILED with the reason and a failed event', async () => {
    const [imageId] = await seedImages(server, bob.id, ['ISIC_0000151']);
    const em = server.services.db.orm.em.fork();
    const [{ sha256 }] = (await em
      .getConnection()
      .execute('select sha256 from images where id = ?', [imageId])) as Array<{ sha256: string }>;
    await server.services.inference.files.remove(sha256); // the stored bytes vanish: every attempt fails
    // (dg-seg-stats was unloaded above)
    const r = await server.gql<any>(
      Q.segment,
      { imageIds: [imageId], members: [{ model: 'dg-seg-skin-distance' }] },
      bob.token,
    );
    expect(r.errors).toBeUndefined();
    const stream = await subscribeProgress(server.url, bob.token, r.data.segmentImages.id);
    await stream.done;
    await stream.close();
    const job = await waitForJob(server, bob.token, r.data.segmentImages.id);
    expect(job).toMatchObject({ status: 'FAILED', stage: 'FAILED', attempts: 3 });
    expect(job.error).toBe('INTERNAL_SERVER_ERROR: internal error while running the job (attempt 3)');
    expect(job.error).not.toMatch(/\//); // no paths
    const stages = stream.events.map((e) => e.stage);
    expect(stages.filter((s) => s === 'QUEUED')).toHaveLength(3); // the first, then one per retry
    expect(stages.at(-1)).toBe('FAILED');
    expect(stream.events.at(-1)).toMatchObject({ status: 'FAILED', message: 'internal error while running the job' });
    const metrics = await server.services.metrics.registry.getSingleMetricAsString(
      'dermagraph_inference_job_failures_total',
    );
    expect(metrics).toMatch(/kind="segment",reason="INTERNAL_SERVER_ERROR"} 1/);
  }, 60_000);
});

describe('a job the queue gives up on (workers kept dying on it)', () => {
  it('ends FAILED with the reason; a finished job is left as it is', async () => {
    const em = server.services.db.orm.em.fork();
    const stuck = em.create(InferenceJob, {
      owner: alice.id,
      kind: JobKind.SEGMENT,
      request: { imageIds: [] },
      status: 'RUNNING',
      stage: 'model',
      attempts: 3,
    } as never) as InstanceType<typeof InferenceJob>;
    await em.insert(stuck);
    const runner = server.services.inference.runner!;
    await runner.abandon(stuck.id, 'the job stalled too often (workers stopped while running it)');
    const job = (await server.gql<any>(Q.job, { id: stuck.id }, alice.token)).data.job;
    expect(job).toMatchObject({
      status: 'FAILED',
      stage: 'FAILED',
      error: 'INTERNAL_SERVER_ERROR: the job stalled too often (workers stopped while running it)',
    });
    const events = await server.services.inference.progress.history(stuck.id);
    expect(events.at(-1)).toMatchObject({ stage: 'failed', status: 'FAILED' });

    const r = await server.gql<any>(
      Q.segment,
      { imageIds: [aliceImages[0]], members: [{ model: 'dg-seg-skin-distance' }] },
      alice.token,
    );
    const done = await waitForJob(server, alice.token, r.data.segmentImages.id);
    await runner.abandon(done.id, 'late');
    expect((await server.gql<any>(Q.job, { id: done.id }, alice.token)).data.job).toMatchObject({
      status: 'SUCCEEDED',
      error: null,
    });
  }, 60_000);
});

describe('quota under concurrency', () => {
  it('counts classifications still queued against the quota, so a burst cannot overrun it', async () => {
    const carol = await createSignedInUser(server, { role: Role.CLINICIAN });
    const [img] = await seedImages(server, carol.id, ['ISIC_0000150']);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => server.gql<any>(Q.classify, { imageId: img, explain: false }, carol.token)),
    );
    const accepted = results.filter((x) => !x.errors);
    // The quota lock serialises the recording and the count: exactly the quota passes, never more, never fewer.
    expect(accepted.length).toBe(4);
    expect(results.filter((x) => codeOf(x)?.code === 'RATE_LIMITED').length).toBe(8 - accepted.length);
    for (const a of accepted) await waitForJob(server, carol.token, a.data.classifyImage.id);
    const [{ n }] = (await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute('select count(*)::int as n from predictions where owner_id = ?', [carol.id])) as Array<{ n: number }>;
    expect(n).toBeLessThanOrEqual(4);
  }, 60_000);
});

describe('classifyImages: hostile input', () => {
  const jobCount = async () =>
    (
      (await server.services.db.orm.em
        .fork()
        .getConnection()
        .execute('select count(*)::int as n from inference_jobs')) as Array<{ n: number }>
    )[0].n;

  it('refuses an empty list and 10 000 ids with BAD_USER_INPUT, and names the first image that is not readable', async () => {
    const before = await jobCount();
    expect(codeOf(await server.gql<any>(Q.classifyMany, { imageIds: [] }, alice.token))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'imageIds',
    });
    const many = await server.gql<any>(
      Q.classifyMany,
      { imageIds: Array.from({ length: 10_000 }, () => randomUUID()) },
      alice.token,
    );
    expect(codeOf(many)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds', max: 100 });
    for (const bad of [bobImages[0], randomUUID(), 'not-an-id']) {
      const r = await server.gql<any>(Q.classifyMany, { imageIds: [aliceImages[0], bad, aliceImages[1]] }, alice.token);
      expect(codeOf(r)).toMatchObject({ code: 'NOT_FOUND', field: 'imageIds[1]' });
      expect(r.errors![0].message).toBe('Image not found');
    }
    expect(
      codeOf(await server.gql<any>(Q.classifyMany, { imageIds: [aliceImages[0]] }, researcher.token)),
    ).toMatchObject({ code: 'FORBIDDEN' });
    expect(await jobCount()).toBe(before);
  });

  it('counts every image of a batch against the quota, queued ones included; a refused batch leaves no job', async () => {
    const dave = await createSignedInUser(server, { role: Role.CLINICIAN });
    const images = await seedImages(server, dave.id, [
      'ISIC_0000150',
      'ISIC_0000151',
      'ISIC_0000153',
      'ISIC_0000154',
      'ISIC_0000184',
    ]);
    const before = await jobCount();
    const tooMany = await server.gql<any>(Q.classifyMany, { imageIds: images, explain: false }, dave.token);
    expect(codeOf(tooMany)).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED', limit: 4, used: 0 });
    expect(await jobCount()).toBe(before);
    const three = await server.gql<any>(Q.classifyMany, { imageIds: images.slice(0, 3), explain: false }, dave.token);
    expect(three.errors).toBeUndefined();
    // While those three are queued or running they count: two more do not fit.
    const two = await server.gql<any>(Q.classifyMany, { imageIds: images.slice(3), explain: false }, dave.token);
    expect(codeOf(two)).toMatchObject({ code: 'RATE_LIMITED', limit: 4 });
    expect((codeOf(two) as { used: number }).used).toBe(3);
    const job = await waitForJob(server, dave.token, three.data.classifyImages.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', imageCount: 3 });
    expect(job.resultIds).toHaveLength(3);
    const one = await server.gql<any>(Q.classifyMany, { imageIds: images.slice(4), explain: false }, dave.token);
    expect(one.errors).toBeUndefined();
    await waitForJob(server, dave.token, one.data.classifyImages.id);
    const [{ n }] = (await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute('select count(*)::int as n from predictions where owner_id = ?', [dave.id])) as Array<{ n: number }>;
    expect(n).toBe(4);
  }, 60_000);
});
