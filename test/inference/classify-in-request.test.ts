import { Role } from '../../src/entities';
import { BatchedTransaction } from '../../src/infra/database/batched-transaction';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, snapshot } from '../patients/helpers';
import { multipart } from '../patients/multipart';
import { CLASSIFY_STAGES, fetchPng, inRequestCounts, progressLog, Q, waitForJob } from './helpers';

/**
 * uploadImages with classify and wait, where the api process runs the jobs (inline mode): the images are
 * classified inside the request and the job is recorded finished in the upload's own transaction
 * (InRequestClassifier). What a client can see must be what a queued job leaves: the job's row, its
 * predictions, its progress log, its quota; and whatever cannot be done in the request goes to the queue.
 */

const UPLOAD = `mutation($p: ID!, $f: [Upload!]!, $classify: ClassifyInput) {
  uploadImages(patientId: $p, files: $f, classify: $classify, wait: true) {
    id sha256
    latestPrediction { id jobId imageId label confidence malignantProbability probabilities { label probability }
      members { model version } quality { score } gradCam { method model targetClass heatmapUrl } }
  }
}`;
const PLAIN_UPLOAD = `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { id } }`;
const CLASSIFY_WAIT = `mutation($id: ID!) { classifyImage(imageId: $id, wait: true) { id status stage attempts imageCount resultIds
  predictions { id imageId malignantProbability gradCam { method } } } }`;
const PREDICTION = `query($id: ID!) { prediction(id: $id) { id label confidence malignantProbability probabilities { label probability }
  members { model version } quality { score } gradCam { method model targetClass heatmapUrl } } }`;

/** A JPEG with bytes of its own (after the end marker), so that no other upload shares its stored file. */
const own = (i: number, tag: string) => ({
  name: `lesion-${i}.jpg`,
  data: Buffer.concat([fixture(JPEGS[i % JPEGS.length]), Buffer.from(`${tag}-${Math.random()}`)]),
  type: 'image/jpeg',
});

const rowsOf = async (server: TestServer, sql: string, params: unknown[] = []) =>
  (await server.services.db.orm.em.fork().execute(sql, params)) as Array<Record<string, any>>;

describe('classified in the request (inline mode)', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let patientId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { JOB_MODE: 'inline', QUOTA_FREE_PREDICTIONS_PER_MONTH: '24' } });
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    patientId = await createPatient(server, alice.token);
  }, 60_000);
  afterAll(() => server?.close());

  it('one request: the job never reaches the queue; it is SUCCEEDED with its prediction, as a queued one leaves it', async () => {
    const before = await inRequestCounts(server);
    const runs = jest.spyOn(server.services.inference.runner!, 'run');
    let r: Awaited<ReturnType<typeof multipart>>;
    try {
      r = await multipart(
        server,
        alice.token,
        UPLOAD,
        { p: patientId, classify: { explain: true } },
        [own(0, 'one')],
        'f',
      );
    } finally {
      runs.mockRestore();
    }
    expect(r.errors).toBeUndefined();
    expect(await inRequestCounts(server)).toEqual({ classified: before.classified + 1, queued: before.queued });
    const [image] = r.data.uploadImages;
    const { id: predictionId, jobId } = image.latestPrediction;
    // The runner never saw it: no claim, no result statement of its own, no queue hand-over.
    expect(runs.mock.calls.map(([a]) => a.jobId)).not.toContain(jobId);
    const job = await waitForJob(server, alice.token, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', stage: 'DONE', progress: 1, attempts: 1, imageCount: 1 });
    expect(job.resultIds).toEqual([predictionId]);
    expect(Date.parse(job.createdAt)).toBeLessThanOrEqual(Date.parse(job.startedAt));
    expect(Date.parse(job.startedAt)).toBeLessThanOrEqual(Date.parse(job.finishedAt));
    // The month's usage counted the prediction, once.
    const [usage] = await rowsOf(server, 'select count from prediction_usage where owner_id = ?', [alice.id]);
    expect(usage.count).toBe(1);
  }, 60_000);

  it("the progress log replays as a queued job's: queued, the stages, the Grad-CAM (its heatmap answers), persisted, done", async () => {
    const r = await multipart(
      server,
      alice.token,
      UPLOAD,
      { p: patientId, classify: { explain: true } },
      [own(1, 'events')],
      'f',
    );
    expect(r.errors).toBeUndefined();
    const [image] = r.data.uploadImages;
    const { jobId, id: predictionId } = image.latestPrediction;
    const events = await progressLog(server.url, alice.token, jobId);
    expect(events.map((e) => e.stage)).toEqual(CLASSIFY_STAGES);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.map((e) => e.status)).toEqual([
      'QUEUED',
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'SUCCEEDED',
    ]);
    expect(events.map((e) => e.attempt)).toEqual([0, 1, 1, 1, 1, 1, 1]);
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);
    expect(events[2]).toMatchObject({ model: 'dg-gap-classifier', imageId: image.id, imageIndex: 0, imageCount: 1 });
    expect(events[4]).toMatchObject({ predictionId, gradCam: { method: image.latestPrediction.gradCam.method } });
    expect(events[5]).toMatchObject({ predictionId, prediction: { id: predictionId } });
    const heatmap = await fetchPng(server, events[4].gradCam.heatmapUrl);
    expect(heatmap).toMatchObject({ status: 200, type: 'image/png' });
  }, 60_000);

  it('the same answer as a queued job on the same image: probabilities, members, quality and the Grad-CAM map', async () => {
    const r = await multipart(server, alice.token, UPLOAD, { p: patientId, classify: {} }, [own(2, 'same')], 'f');
    expect(r.errors).toBeUndefined();
    const [image] = r.data.uploadImages;
    const queued = await server.gql<any>(Q.classify, { imageId: image.id }, alice.token);
    const job = await waitForJob(server, alice.token, queued.data.classifyImage.id);
    expect(job.status).toBe('SUCCEEDED');
    const again = (await server.gql<any>(PREDICTION, { id: job.resultIds[0] }, alice.token)).data.prediction;
    const mine = image.latestPrediction;
    for (const key of ['label', 'confidence', 'malignantProbability', 'probabilities', 'members', 'quality'])
      expect([key, again[key]]).toEqual([key, mine[key]]);
    expect({ ...again.gradCam, heatmapUrl: null }).toEqual({ ...mine.gradCam, heatmapUrl: null });
    // Both maps are the same bytes: the URLs name them by their sha256.
    // /files/gradcams/<image sha256>.<map sha256>/heatmap
    const mapOf = (url: string) => /\/gradcams\/[0-9a-f]{64}\.([0-9a-f]{64})\//.exec(new URL(url).pathname)?.[1];
    expect(mapOf(again.gradCam.heatmapUrl)).toBeDefined();
    expect(mapOf(again.gradCam.heatmapUrl)).toBe(mapOf(mine.gradCam.heatmapUrl));
  }, 60_000);

  it('several images, two with the same bytes: one job, a prediction each in order, events per image', async () => {
    const a = own(0, 'many-a');
    const files = [a, own(1, 'many-b'), { ...a, name: 'copy.jpg' }];
    const r = await multipart(server, alice.token, UPLOAD, { p: patientId, classify: { explain: false } }, files, 'f');
    expect(r.errors).toBeUndefined();
    const images = r.data.uploadImages;
    expect(images).toHaveLength(3);
    const jobId = images[0].latestPrediction.jobId;
    expect(new Set(images.map((i: any) => i.latestPrediction.jobId))).toEqual(new Set([jobId]));
    expect(images[2].latestPrediction.malignantProbability).toBe(images[0].latestPrediction.malignantProbability);
    expect(images[2].latestPrediction.id).not.toBe(images[0].latestPrediction.id);
    const job = await waitForJob(server, alice.token, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', imageCount: 3 });
    expect(job.resultIds).toEqual(images.map((i: any) => i.latestPrediction.id));
    const events = await server.services.inference.progress.history(jobId);
    expect(events.filter((e) => e.stage === 'persisted').map((e) => e.imageIndex)).toEqual([0, 1, 2]);
    expect(events.filter((e) => e.stage === 'gradcam')).toEqual([]);
  }, 60_000);

  it('a burst at the last of the quota: exactly that many pass, each counted once, the rest leave nothing', async () => {
    const erin = await createSignedInUser(server, { role: Role.CLINICIAN });
    const mine = await createPatient(server, erin.token);
    // 20 of the 24 predictions a month spent, in one request, so 4 remain for 8 concurrent ones.
    const spent = Array.from({ length: 20 }, (_, i) => own(i, 'spent'));
    const warmUp = await multipart(server, erin.token, UPLOAD, { p: mine, classify: { explain: false } }, spent, 'f');
    expect(warmUp.errors).toBeUndefined();
    const before = await snapshot(server);
    const answers = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        multipart(server, erin.token, UPLOAD, { p: mine, classify: { explain: false } }, [own(i, 'burst')], 'f'),
      ),
    );
    const passed = answers.filter((a) => !a.errors);
    expect(passed).toHaveLength(4);
    for (const a of passed)
      expect(a.data.uploadImages[0].latestPrediction).toMatchObject({ label: expect.any(String) });
    for (const a of answers.filter((x) => x.errors))
      expect(a.errors![0].extensions).toMatchObject({
        code: 'RATE_LIMITED',
        reason: 'QUOTA_EXCEEDED',
        quota: 'predictions',
      });
    const after = await snapshot(server);
    expect(after.images).toBe(before.images + 4);
    expect(after.files).toBe(before.files + 4);
    const [usage] = await rowsOf(server, 'select count from prediction_usage where owner_id = ?', [erin.id]);
    expect(usage.count).toBe(24);
    const [jobs] = await rowsOf(
      server,
      `select count(*)::int as n, count(*) filter (where status = 'SUCCEEDED')::int as ok from inference_jobs where owner_id = ?`,
      [erin.id],
    );
    expect(jobs).toEqual({ n: 5, ok: 5 });
  }, 60_000);

  it('a member that cannot open in the request: queued instead, and the queue runs it', async () => {
    const before = await inRequestCounts(server);
    // The first lease asked for (the request's) fails; the queued job's own, after it, does not.
    const lease = jest.spyOn(server.services.models, 'leaseForJob').mockRejectedValueOnce(new Error('device lost'));
    let r: Awaited<ReturnType<typeof multipart>>;
    try {
      r = await multipart(server, alice.token, UPLOAD, { p: patientId, classify: {} }, [own(0, 'lost')], 'f');
    } finally {
      lease.mockRestore();
    }
    expect(r.errors).toBeUndefined();
    expect(await inRequestCounts(server)).toEqual({ classified: before.classified, queued: before.queued + 1 });
    const [image] = r.data.uploadImages;
    // Waited for on the queue as any job: the answer still carries its prediction.
    expect(image.latestPrediction).toMatchObject({ imageId: image.id, gradCam: { method: expect.any(String) } });
    const job = await waitForJob(server, alice.token, image.latestPrediction.jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1, resultIds: [image.latestPrediction.id] });
  }, 60_000);

  it('classifyImage with wait on a stored image: classified in the request, the same answer as a queued run', async () => {
    const up = await multipart(server, alice.token, PLAIN_UPLOAD, { p: patientId }, [own(2, 'stored')], 'f');
    const imageId = up.data.uploadImages[0].id;
    const before = await inRequestCounts(server);
    const [usage] = await rowsOf(server, 'select count from prediction_usage where owner_id = ?', [alice.id]);
    const runs = jest.spyOn(server.services.inference.runner!, 'run');
    let r: Awaited<ReturnType<typeof server.gql<any>>>;
    try {
      r = await server.gql<any>(CLASSIFY_WAIT, { id: imageId }, alice.token);
    } finally {
      runs.mockRestore();
    }
    expect(r.errors).toBeUndefined();
    const job = r.data.classifyImage;
    expect(job).toMatchObject({ status: 'SUCCEEDED', stage: 'DONE', attempts: 1, imageCount: 1 });
    expect(job.predictions).toHaveLength(1);
    expect(job.resultIds).toEqual([job.predictions[0].id]);
    expect(runs.mock.calls.map(([a]) => a.jobId)).not.toContain(job.id);
    expect(await inRequestCounts(server)).toEqual({ classified: before.classified + 1, queued: before.queued });
    const [after] = await rowsOf(server, 'select count from prediction_usage where owner_id = ?', [alice.id]);
    expect(after.count).toBe(usage.count + 1);
    const stages = (await server.services.inference.progress.history(job.id)).map((e) => e.stage);
    expect(stages).toEqual(['queued', 'preprocessing', 'model', 'ensembling', 'gradcam', 'persisted', 'done']);
    // A queued run (no wait) on the same image answers the same.
    const queued = await server.gql<any>(Q.classify, { imageId }, alice.token);
    const done = await waitForJob(server, alice.token, queued.data.classifyImage.id);
    const again = (await server.gql<any>(PREDICTION, { id: done.resultIds[0] }, alice.token)).data.prediction;
    expect(again.malignantProbability).toBe(job.predictions[0].malignantProbability);
    expect(again.gradCam.method).toBe(job.predictions[0].gradCam.method);
  }, 60_000);

  it('classifyImage with wait, a burst at the last of the quota: exactly that many pass', async () => {
    const fay = await createSignedInUser(server, { role: Role.CLINICIAN });
    const mine = await createPatient(server, fay.token);
    const spent = Array.from({ length: 20 }, (_, i) => own(i, 'fay-spent'));
    const first = await multipart(server, fay.token, UPLOAD, { p: mine, classify: { explain: false } }, spent, 'f');
    expect(first.errors).toBeUndefined();
    const stored = await multipart(
      server,
      fay.token,
      PLAIN_UPLOAD,
      { p: mine },
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => own(i, 'fay')),
      'f',
    );
    expect(stored.errors).toBeUndefined();
    const answers = await Promise.all(
      stored.data.uploadImages.map((i: { id: string }) => server.gql<any>(CLASSIFY_WAIT, { id: i.id }, fay.token)),
    );
    const passed = answers.filter((a) => !a.errors);
    expect(passed).toHaveLength(4); // 24 a month, 20 spent
    for (const a of passed) expect(a.data.classifyImage).toMatchObject({ status: 'SUCCEEDED' });
    for (const a of answers.filter((x) => x.errors))
      expect(a.errors![0].extensions).toMatchObject({
        code: 'RATE_LIMITED',
        reason: 'QUOTA_EXCEEDED',
        quota: 'predictions',
      });
    const [usage] = await rowsOf(server, 'select count from prediction_usage where owner_id = ?', [fay.id]);
    expect(usage.count).toBe(24);
    // Over the quota now: refused before the model runs (the early read), so no classification is even tried.
    const tried = await inRequestCounts(server);
    const over = await server.gql<any>(CLASSIFY_WAIT, { id: stored.data.uploadImages[0].id }, fay.token);
    expect(over.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', quota: 'predictions' });
    expect(await inRequestCounts(server)).toEqual(tried);
    const [jobs] = await rowsOf(server, 'select count(*)::int as n from inference_jobs where owner_id = ?', [fay.id]);
    expect(jobs.n).toBe(5);
  }, 60_000);

  it('classifyImage with wait whose transaction fails: an error, and nothing stored (no job, prediction or usage)', async () => {
    const up = await multipart(server, alice.token, PLAIN_UPLOAD, { p: patientId }, [own(1, 'commit')], 'f');
    const imageId = up.data.uploadImages[0].id;
    const count = async () =>
      (
        await rowsOf(
          server,
          `select (select count(*)::int from inference_jobs where owner_id = ?) as jobs,
             (select count(*)::int from predictions where image_id = ?) as predictions,
             (select count from prediction_usage where owner_id = ?) as usage`,
          [alice.id, imageId, alice.id],
        )
      )[0];
    const before = await count();
    const commit = jest
      .spyOn(BatchedTransaction.prototype, 'commitWith')
      .mockRejectedValueOnce(new Error('connection reset'));
    let r: Awaited<ReturnType<typeof server.gql<any>>>;
    try {
      r = await server.gql<any>(CLASSIFY_WAIT, { id: imageId }, alice.token);
    } finally {
      commit.mockRestore();
    }
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(await count()).toEqual(before);
    // The same call again: classified and stored once.
    const again = await server.gql<any>(CLASSIFY_WAIT, { id: imageId }, alice.token);
    expect(again.data.classifyImage).toMatchObject({ status: 'SUCCEEDED' });
    expect(await count()).toEqual({ ...before, jobs: before.jobs + 1, predictions: 1, usage: before.usage + 1 });
  }, 60_000);

  it('without wait, or with a segmentation: queued as before', async () => {
    const before = await inRequestCounts(server);
    const noWait = await multipart(
      server,
      alice.token,
      `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f, classify: {}) { id } }`,
      { p: patientId },
      [own(0, 'no-wait')],
      'f',
    );
    expect(noWait.errors).toBeUndefined();
    const both = await multipart(
      server,
      alice.token,
      `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f, classify: {}, segment: { members: [{ model: "dg-seg-stats" }] }, wait: true) { latestPrediction { jobId } } }`,
      { p: patientId },
      [own(1, 'both')],
      'f',
    );
    expect(both.errors).toBeUndefined();
    const job = await waitForJob(server, alice.token, both.data.uploadImages[0].latestPrediction.jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(await inRequestCounts(server)).toEqual(before);
  }, 60_000);
});

describe('what cannot be done in the request goes to the queue', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let patientId: string;

  beforeAll(async () => {
    // A wait that has run out by the time the images are decoded: the classification cannot settle in it.
    server = await startTestServer({ env: { JOB_MODE: 'inline', JOB_WAIT_TIMEOUT_MS: '0' } });
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    patientId = await createPatient(server, alice.token);
  }, 60_000);
  afterAll(() => server?.close());

  it('the wait ran out first: the job is recorded QUEUED, runs on the queue and stores one prediction', async () => {
    const before = await inRequestCounts(server);
    const r = await multipart(
      server,
      alice.token,
      `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f, classify: {}, wait: true) { id } }`,
      { p: patientId },
      [own(0, 'late')],
      'f',
    );
    expect(r.errors).toBeUndefined();
    expect(await inRequestCounts(server)).toEqual({ classified: before.classified, queued: before.queued + 1 });
    const [{ id: jobId }] = await rowsOf(server, 'select id from inference_jobs where owner_id = ?', [alice.id]);
    const job = await waitForJob(server, alice.token, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1, imageCount: 1 });
    const [n] = await rowsOf(server, 'select count(*)::int as n from predictions where job_id = ?', [jobId]);
    expect(n.n).toBe(1);
    const [usage] = await rowsOf(server, 'select count from prediction_usage where owner_id = ?', [alice.id]);
    expect(usage.count).toBe(1);
  }, 60_000);
});
