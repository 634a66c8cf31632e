import { Readable } from 'node:stream';
import Upload from 'graphql-upload/Upload.mjs';
import { Role } from '../../src/entities';
import { uploadAndQueue } from '../../src/modules/jobs/api/upload-jobs.service';
import { fetchPng, seedImages, waitForJob } from '../inference/helpers';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, snapshot } from './helpers';
import { multipart } from './multipart';
import { queries, statementCounter } from '../support/statements';

/**
 * uploadImages with classify / segment: one request from image to result. The options and quotas
 * are checked before any file is stored; a refusal after the upload (the quota taken meanwhile)
 * takes the images back: a refused call leaves nothing.
 */

// The example, as written (with its variables declared).
const EXAMPLE = `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f, classify: { explain: true }, wait: true) { id latestPrediction { label confidence gradCam { overlayUrl(opacity: 0.5) } } } }`;

const UPLOAD = `mutation($patientId: ID!, $files: [Upload!]!, $classify: ClassifyInput, $segment: SegmentInput, $wait: Boolean) {
  uploadImages(patientId: $patientId, files: $files, classify: $classify, segment: $segment, wait: $wait) {
    id patientId
    latestPrediction { id jobId imageId label confidence gradCam { method overlayUrl } }
    segmentations { edges { node { id jobId imageId severity maskUrl } } }
  }
}`;

const jpeg = (i: number) => ({ name: `lesion-${i}.jpg`, data: fixture(JPEGS[i % JPEGS.length]), type: 'image/jpeg' });

let server: TestServer;
let alice: SignedInUser;
let bob: SignedInUser;
let patientId: string;

beforeAll(async () => {
  server = await startTestServer({
    env: { JOB_MODE: 'inline', QUOTA_FREE_PREDICTIONS_PER_MONTH: '8', QUOTA_FREE_SEGMENTATIONS_PER_MONTH: '8' },
  });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  bob = await createSignedInUser(server, { role: Role.CLINICIAN });
  patientId = await createPatient(server, alice.token);
}, 60_000);

afterAll(() => server?.close());

/** Rows, stored files and jobs: a refused call must change none of them. */
async function state(): Promise<Record<string, number>> {
  const rows = (await server.services.db.orm.em
    .fork()
    .execute('select count(*)::int as n from inference_jobs')) as Array<{ n: number }>;
  return { ...(await snapshot(server)), jobs: rows[0].n };
}

describe('uploadImages with classify and wait', () => {
  it("the issue's example: one request answers with the prediction and its Grad-CAM overlay", async () => {
    const r = await multipart(server, alice.token, EXAMPLE, { p: patientId }, [jpeg(0)], 'f');
    expect(r.errors).toBeUndefined();
    const [image] = r.data.uploadImages;
    expect(image.latestPrediction).toMatchObject({ label: expect.stringMatching(/^(benign|malignant)$/) });
    expect(image.latestPrediction.confidence).toBeGreaterThan(0);
    const png = await fetchPng(server, image.latestPrediction.gradCam.overlayUrl);
    expect(png).toMatchObject({ status: 200, type: 'image/png', width: 250, height: 250 });
  }, 60_000);

  it('the answer is made from the prediction the job stored, not read back, and equals a later read of it', async () => {
    const EVERY = `id jobId imageId patientId createdAt label confidence malignant malignantProbability ensemble flags reasons
      abstained abstainMargin decisionMargin probabilities { label probability }
      members { model version weight device { kind index } requestedDevice { kind index } fallbackReason }
      memberResults { model version weight label confidence malignantProbability probabilities { label probability } }
      memberDisagreement { labelsDisagree malignantProbabilitySpread malignantProbabilityStdDev }
      quality { score sharpness darkFraction brightFraction meanBrightness skinFraction }
      gradCam { method model targetClass }`;
    const upload = new Upload();
    const bytes = Buffer.concat([fixture(JPEGS[0]), Buffer.from('answered-from-the-job')]);
    upload.resolve({
      filename: 'answered.jpg',
      mimetype: 'image/jpeg',
      encoding: '7bit',
      createReadStream: () => Readable.from([bytes]),
    } as never);
    // In process, on a pool that records the request's statements (the job's own go through the server's).
    const counter = await statementCounter(server, alice);
    try {
      const r = await counter.run(
        `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f, classify: { explain: true }, wait: true) { id latestPrediction { ${EVERY} } } }`,
        { p: patientId, f: [upload] },
      );
      expect(r.errors).toBeUndefined();
      const [image] = r.data.uploadImages;
      expect(image.latestPrediction).toMatchObject({ imageId: image.id, gradCam: { method: expect.any(String) } });
      expect(queries(r.statements).filter((q) => /from "?predictions"?/.test(q))).toEqual([]);
      const later = await server.gql<any>(
        `query($id: ID!) { image(id: $id) { latestPrediction { ${EVERY} } } }`,
        { id: image.id },
        alice.token,
      );
      // As a client sees them (in process, DateTime is still a Date before JSON).
      expect(later.data.image.latestPrediction).toEqual(JSON.parse(JSON.stringify(image.latestPrediction)));
      expect(server.services.inference.waited?.size).toBe(0); // nothing kept once answered
    } finally {
      await counter.close();
    }
  }, 60_000);

  it('classify and segment together: one job each over all the uploaded images, every result there', async () => {
    const r = await multipart(
      server,
      alice.token,
      UPLOAD,
      { patientId, classify: {}, segment: { members: [{ model: 'dg-seg-skin-distance' }] }, wait: true },
      [jpeg(1), jpeg(2)],
    );
    expect(r.errors).toBeUndefined();
    const images = r.data.uploadImages;
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(image.latestPrediction).toMatchObject({ imageId: image.id, gradCam: { overlayUrl: expect.any(String) } });
      expect(image.segmentations.edges).toHaveLength(1);
      expect(image.segmentations.edges[0].node).toMatchObject({ imageId: image.id });
    }
    // One classification job and one segmentation job, each over both images, both SUCCEEDED.
    const classifyJob = images[0].latestPrediction.jobId;
    const segmentJob = images[0].segmentations.edges[0].node.jobId;
    expect(images[1].latestPrediction.jobId).toBe(classifyJob);
    expect(images[1].segmentations.edges[0].node.jobId).toBe(segmentJob);
    for (const id of [classifyJob, segmentJob]) {
      const job = await waitForJob(server, alice.token, id);
      expect(job).toMatchObject({ status: 'SUCCEEDED', imageCount: 2 });
    }
  }, 60_000);

  it("the README's classify-and-segment example, as written", async () => {
    const readme = `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f, classify: {}, segment: { members: [{ model: "dg-seg-stats" }] }, wait: true) {
  id latestPrediction { label } segmentations(first: 1) { edges { node { severity maskUrl } } } } }`;
    const r = await multipart(server, alice.token, readme, { p: patientId }, [jpeg(2)], 'f');
    expect(r.errors).toBeUndefined();
    const [image] = r.data.uploadImages;
    expect(image.latestPrediction.label).toMatch(/^(benign|malignant)$/);
    expect(image.segmentations.edges[0].node.maskUrl).toMatch(/^http/);
  }, 60_000);

  it('without wait: the images answer at once and the queued job stores their results', async () => {
    const before = await state();
    const r = await multipart(server, alice.token, UPLOAD, { patientId, classify: { explain: false } }, [jpeg(0)]);
    expect(r.errors).toBeUndefined();
    const [image] = r.data.uploadImages;
    expect((await state()).jobs).toBe(before.jobs + 1);
    const rows = (await server.services.db.orm.em
      .fork()
      .execute('select id from inference_jobs order by created_at desc limit 1')) as Array<{ id: string }>;
    const job = await waitForJob(server, alice.token, rows[0].id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', imageCount: 1 });
    const q = `query($id: ID!) { image(id: $id) { latestPrediction { id imageId gradCam { method } } } }`;
    const read = await server.gql<any>(q, { id: image.id }, alice.token);
    expect(read.data.image.latestPrediction).toMatchObject({ id: job.resultIds[0], imageId: image.id, gradCam: null });
  }, 60_000);
});

describe('a refused classify / segment stores nothing', () => {
  it.each([
    [{ classify: { models: [{ model: 'no-such-model' }] } }, 'MODEL_UNAVAILABLE', 'classify.models[0].model'],
    [{ classify: { targetClass: 'melanoma?' } }, 'BAD_USER_INPUT', 'classify.targetClass'],
    [{ classify: { models: [{ model: 'dg-seg-stats' }] } }, 'BAD_USER_INPUT', 'classify.models[0].model'],
    [{ segment: { members: [{ model: 'dg-gap-classifier' }] } }, 'BAD_USER_INPUT', 'segment.members[0].model'],
    [{ segment: { members: [{ model: 'dg-seg-stats' }], threshold: 1.5 } }, 'BAD_USER_INPUT', 'segment.threshold'],
    [{ classify: {}, segment: { members: [] } }, 'BAD_USER_INPUT', 'segment.members'],
  ])('%j: %s on %s', async (options, code, field) => {
    const before = await state();
    const r = await multipart(server, alice.token, UPLOAD, { patientId, ...options }, [jpeg(0), jpeg(1)]);
    expect(r.errors?.[0].extensions).toMatchObject({ code, field });
    expect(r.data).toBeNull();
    expect(await state()).toEqual(before);
  });

  it("another user's patient: NOT_FOUND before any option is looked at, with or without wait", async () => {
    const before = await state();
    for (const vars of [
      { classify: {}, wait: true },
      { classify: { models: [{ model: 'no-such-model' }] } },
      { segment: { members: [{ model: 'dg-seg-stats' }] }, wait: true },
    ]) {
      const r = await multipart(server, bob.token, UPLOAD, { patientId, ...vars }, [jpeg(0)]);
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(await state()).toEqual(before);
  });

  it('a quota the request would pass: RATE_LIMITED (QUOTA_EXCEEDED) before any file is stored', async () => {
    const carol = await createSignedInUser(server, { role: Role.CLINICIAN });
    const own = await createPatient(server, carol.token);
    const before = await state();
    const nine = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(jpeg); // the quota is 8 a month
    const r = await multipart(server, carol.token, UPLOAD, { patientId: own, classify: {}, wait: true }, nine);
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'QUOTA_EXCEEDED',
      quota: 'predictions',
      limit: 8,
      used: 0,
    });
    const s = await multipart(
      server,
      carol.token,
      UPLOAD,
      { patientId: own, segment: { members: [{ model: 'dg-seg-stats' }] } },
      nine,
    );
    expect(s.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', quota: 'segmentations' });
    expect(await state()).toEqual(before);
    // The same files without classify are within the upload quota: only the classification was refused.
    const plain = await multipart(server, carol.token, UPLOAD, { patientId: own }, nine);
    expect(plain.errors).toBeUndefined();
    expect(plain.data.uploadImages).toHaveLength(9);
  }, 60_000);

  it('a burst of one-image uploads with classify against the last of the quota: exactly that many land, the rest leave nothing', async () => {
    const erin = await createSignedInUser(server, { role: Role.CLINICIAN });
    const own = await createPatient(server, erin.token);
    // 5 of the 8 predictions spent, so 3 remain for 8 concurrent requests that all pass the early check.
    const spent = await seedImages(
      server,
      erin.id,
      ['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000150'],
      own,
    );
    const first = await server.gql<any>(
      `mutation($ids: [ID!]!) { classifyImages(imageIds: $ids, explain: false, wait: true) { status } }`,
      { ids: spent },
      erin.token,
    );
    expect(first.data.classifyImages.status).toBe('SUCCEEDED');
    const before = await state();
    // Distinct bytes per request (after the JPEG's end marker), so no request shares another's stored file.
    const distinct = (i: number) => ({ ...jpeg(i), data: Buffer.concat([jpeg(i).data, Buffer.from(`burst-${i}`)]) });
    const answers = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        multipart(server, erin.token, UPLOAD, { patientId: own, classify: { explain: false }, wait: true }, [
          distinct(i),
        ]),
      ),
    );
    const passed = answers.filter((a) => !a.errors);
    const refused = answers.filter((a) => a.errors);
    expect(passed).toHaveLength(3);
    for (const a of passed)
      expect(a.data.uploadImages[0].latestPrediction).toMatchObject({ label: expect.any(String) });
    for (const a of refused)
      expect(a.errors![0].extensions).toMatchObject({
        code: 'RATE_LIMITED',
        reason: 'QUOTA_EXCEEDED',
        quota: 'predictions',
      });
    // Only the three that passed left anything: their images, their files and their jobs.
    const after = await state();
    expect(after.jobs).toBe(before.jobs + 3);
    expect(after.images).toBe(before.images + 3);
    expect(after.files).toBe(before.files + 3);
  }, 60_000);

  it('the quota taken by another request after the early check: the upload is refused whole, and nothing is stored', async () => {
    const dave = await createSignedInUser(server, { role: Role.CLINICIAN });
    const own = await createPatient(server, dave.token);
    const others = await seedImages(
      server,
      dave.id,
      ['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151'],
      own,
    );
    const before = await state();
    const file = (i: number) =>
      Promise.resolve({ filename: `x${i}.png`, mimetype: 'image/png', createReadStream: () => Readable.from(png) });
    const png = await (await import('sharp')).default(fixture(JPEGS[2])).png().toBuffer(); // bytes stored nowhere yet
    let concurrent = '';
    const attempt = uploadAndQueue(
      {
        em: server.services.db.orm.em.fork(),
        store: server.services.files,
        config: server.config,
        jobs: server.services.inference.service,
      },
      { id: dave.id, role: Role.CLINICIAN },
      { patientId: own, files: [file(0), file(1)], classify: {} },
      {
        // Past the early check (0 + 2 of 8), before the transaction, another request classifies 7 images: 9 would exceed 8.
        beforeTransaction: async () => {
          const r = await server.gql<any>(
            `mutation($ids: [ID!]!) { classifyImages(imageIds: $ids, explain: false) { id } }`,
            { ids: others },
            dave.token,
          );
          concurrent = r.data.classifyImages.id;
        },
      },
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      extensions: expect.objectContaining({ quota: 'predictions', limit: 8, used: 7 }),
    });
    // Only the other request's job was added (it stores no file without Grad-CAM); neither the images nor
    // the file of this one were kept.
    expect(await waitForJob(server, dave.token, concurrent)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await state()).toEqual({ ...before, jobs: before.jobs + 1 });
  }, 60_000);
});
