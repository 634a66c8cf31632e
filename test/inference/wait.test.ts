import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { JOB_FIELDS, PREDICTION_FIELDS, Q, fetchPng, seedImages } from './helpers';

/**
 * `wait: true` on classifyImage, classifyImages and segmentImages: the mutation answers once the
 * job has ended, with its results readable; past JOB_WAIT_TIMEOUT_MS it answers with the job as it
 * stands, never an error. (wait-worker.test.ts: BullMQ workers in other processes, a client that leaves.)
 */
const W = {
  classify: `mutation($imageId: ID!, $models: [EnsembleMemberInput!], $wait: Boolean) { classifyImage(imageId: $imageId, models: $models, wait: $wait) { ${JOB_FIELDS} } }`,
  classifyMany: `mutation($imageIds: [ID!]!, $wait: Boolean) { classifyImages(imageIds: $imageIds, wait: $wait) { ${JOB_FIELDS} } }`,
  segment: `mutation($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!, $wait: Boolean) { segmentImages(imageIds: $imageIds, members: $members, wait: $wait) { ${JOB_FIELDS} } }`,
};

let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;
let imageIds: string[];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_ATTEMPTS: '1' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  bob = await createSignedInUser(server, { role: Role.CLINICIAN });
  imageIds = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151']);
}, 60_000);

afterAll(() => server?.close());

describe('wait: true', () => {
  it('classifyImage answers once the job SUCCEEDED: the prediction and its Grad-CAM overlay are there', async () => {
    const r = await server.gql<any>(W.classify, { imageId: imageIds[0], wait: true }, alice.token);
    expect(r.errors).toBeUndefined();
    const job = r.data.classifyImage;
    expect(job).toMatchObject({ kind: 'CLASSIFY', status: 'SUCCEEDED', progress: 1, error: null });
    expect(job.resultIds).toHaveLength(1);
    expect(job.finishedAt).not.toBeNull();
    const p = (await server.gql<any>(Q.prediction, { id: job.resultIds[0] }, alice.token)).data.prediction;
    expect(p).toMatchObject({ imageId: imageIds[0], jobId: job.id });
    expect(['benign', 'malignant']).toContain(p.label);
    expect(p.confidence).toBeGreaterThan(0);
    expect(p.gradCam).toMatchObject({ targetClass: p.label, model: 'dg-gap-classifier@1.0.0' });
    const png = await fetchPng(server, p.gradCam.overlayUrl);
    expect(png).toMatchObject({ status: 200, type: 'image/png', width: 250, height: 250 });
  }, 60_000);

  it("the README's example: the job's predictions with their Grad-CAM overlays in the answer", async () => {
    const readme = `mutation { classifyImage(imageId: "<image id>", wait: true) { status error predictions { label confidence gradCam { overlayUrl } } } }`;
    const r = await server.gql<any>(readme.replace('<image id>', imageIds[1]), {}, alice.token);
    expect(r.errors).toBeUndefined();
    expect(r.data.classifyImage).toMatchObject({ status: 'SUCCEEDED', error: null });
    const [p] = r.data.classifyImage.predictions;
    expect(['benign', 'malignant']).toContain(p.label);
    expect(p.confidence).toBeGreaterThan(0);
    expect((await fetchPng(server, p.gradCam.overlayUrl)).status).toBe(200);
  }, 60_000);

  it('classifyImages answers with every image classified, in image order', async () => {
    const r = await server.gql<any>(W.classifyMany, { imageIds: imageIds.slice(0, 2), wait: true }, alice.token);
    expect(r.errors).toBeUndefined();
    const job = r.data.classifyImages;
    expect(job).toMatchObject({ status: 'SUCCEEDED', imageCount: 2, progress: 1 });
    expect(job.resultIds).toHaveLength(2);
    const q = `query($a: ID!, $b: ID!) { a: prediction(id: $a) { ${PREDICTION_FIELDS} } b: prediction(id: $b) { ${PREDICTION_FIELDS} } }`;
    const read = await server.gql<any>(q, { a: job.resultIds[0], b: job.resultIds[1] }, alice.token);
    expect([read.data.a.imageId, read.data.b.imageId]).toEqual(imageIds.slice(0, 2));
  }, 60_000);

  it('segmentImages answers with the segmentation stored', async () => {
    const r = await server.gql<any>(
      W.segment,
      { imageIds: [imageIds[2]], members: [{ model: 'dg-seg-skin-distance' }], wait: true },
      alice.token,
    );
    expect(r.errors).toBeUndefined();
    const job = r.data.segmentImages;
    expect(job).toMatchObject({ kind: 'SEGMENT', status: 'SUCCEEDED', resultIds: [expect.any(String)] });
    const s = (await server.gql<any>(Q.segmentation, { id: job.resultIds[0] }, alice.token)).data.segmentation;
    expect(s).toMatchObject({ imageId: imageIds[2], jobId: job.id, width: 250, height: 250 });
    expect((await fetchPng(server, s.maskUrl)).status).toBe(200);
  }, 60_000);

  it('a job that fails answers FAILED with its reason, not an error', async () => {
    const [imageId] = await seedImages(server, alice.id, ['ISIC_0000153']);
    const em = server.services.db.orm.em.fork();
    const [{ sha256 }] = (await em.execute('select sha256 from images where id = ?', [imageId])) as Array<{
      sha256: string;
    }>;
    await server.services.inference.files.remove(sha256); // the stored bytes vanish: the attempt fails
    const r = await server.gql<any>(W.classify, { imageId, wait: true }, alice.token);
    expect(r.errors).toBeUndefined();
    expect(r.data.classifyImage).toMatchObject({ status: 'FAILED', resultIds: [] });
    expect(r.data.classifyImage.error).toMatch(/^INTERNAL_SERVER_ERROR: /);
  }, 60_000);

  it('wait: false (the default) answers at once with the job queued', async () => {
    const r = await server.gql<any>(W.classify, { imageId: imageIds[1] }, alice.token);
    expect(r.errors).toBeUndefined();
    // Queued by this request; the inline runner may have claimed it already, but not finished it.
    expect(['QUEUED', 'RUNNING']).toContain(r.data.classifyImage.status);
  });

  it("another user's image is NOT_FOUND with or without wait, and queues nothing", async () => {
    const before = await jobCount();
    for (const wait of [true, false]) {
      const r = await server.gql<any>(W.classify, { imageId: imageIds[0], wait }, bob.token);
      expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const s = await server.gql<any>(
        W.segment,
        { imageIds: [imageIds[0]], members: [{ model: 'dg-seg-skin-distance' }], wait },
        bob.token,
      );
      expect(s.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    expect(await jobCount()).toBe(before);
  });

  it('a refused option answers the refusal at once, as without wait', async () => {
    const r = await server.gql<any>(
      W.classify,
      { imageId: imageIds[0], models: [{ model: 'dg-seg-stats' }], wait: true },
      alice.token,
    );
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'models[0].model' });
  });
});

describe('wait past JOB_WAIT_TIMEOUT_MS', () => {
  let slow: TestServer;
  let carol: SignedInUser;
  beforeAll(async () => {
    // Queue mode and no worker: the job stays QUEUED however long one waits.
    slow = await startTestServer({ env: { JOB_MODE: 'queue', JOB_WAIT_TIMEOUT_MS: '300' } });
    carol = await createSignedInUser(slow, { role: Role.CLINICIAN });
  }, 60_000);
  afterAll(() => slow?.close());

  it('answers with the job as it stands (QUEUED), no error', async () => {
    expect(slow.services.inference.mode).toBe('queue');
    const ids = await seedImages(slow, carol.id, ['ISIC_0000150', 'ISIC_0000184']);
    const one = await slow.gql<any>(W.classify, { imageId: ids[0], wait: true }, carol.token);
    expect(one.errors).toBeUndefined();
    expect(one.data.classifyImage).toMatchObject({ status: 'QUEUED', progress: 0, resultIds: [] });
    const many = await slow.gql<any>(W.classifyMany, { imageIds: ids, wait: true }, carol.token);
    expect(many.errors).toBeUndefined();
    expect(many.data.classifyImages).toMatchObject({ status: 'QUEUED', imageCount: 2 });
    const seg = await slow.gql<any>(
      W.segment,
      { imageIds: ids, members: [{ model: 'dg-seg-stats' }], wait: true },
      carol.token,
    );
    expect(seg.errors).toBeUndefined();
    expect(seg.data.segmentImages).toMatchObject({ status: 'QUEUED', kind: 'SEGMENT' });
    // The jobs are there to follow as any other.
    const again = await slow.gql<any>(Q.job, { id: one.data.classifyImage.id }, carol.token);
    expect(again.data.job.status).toBe('QUEUED');
  }, 60_000);
});

async function jobCount(): Promise<number> {
  const rows = (await server.services.db.orm.em
    .fork()
    .execute('select count(*)::int as n from inference_jobs')) as Array<{ n: number }>;
  return rows[0].n;
}
