import { InferenceJob, JobKind, JobStatus, Role } from '../../src/entities';
import { seedPrediction, seedSegmentation } from '../support/results';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { connectWs } from '../support/ws';
import { createPatient, errorCode, fixture, JPEGS, uploadImages } from './helpers';

/**
 * Issue [7], "Authorisation that lags behind changes": after unsharePatient the former sharee still
 * read prediction(id), segmentation(id) and job(id) of their own requests and minted fresh signed
 * URLs. Result access now follows patient access (admin, patient owner, current sharee). The rows
 * are written as the inference runner writes them, so no model has to run.
 */
describe('result access follows patient access', () => {
  let server: TestServer;
  let alice: SignedInUser; // owns the patient
  let bob: SignedInUser; // the sharee who asked for the results
  let carol: SignedInUser; // another clinician
  let admin: SignedInUser;
  let researcher: SignedInUser;
  let patientId: string;
  let predictionId: string;
  let segmentationId: string;
  let jobId: string;
  let imageId: string;

  const member = { model: 'dg-test', version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 };
  const Q = {
    prediction: `query($id: ID!) { prediction(id: $id) { id label gradCam { heatmapUrl overlayUrl } } }`,
    segmentation: `query($id: ID!) { segmentation(id: $id) { id maskUrl probabilityUrl overlayUrl } }`,
    job: `query($id: ID!) { job(id: $id) { id status resultIds } }`,
    history: `query($id: ID!) { patient(id: $id) { latestPrediction { id } predictions { edges { node { id gradCam { heatmapUrl } } } }
      segmentations { edges { node { id maskUrl } } } timeline { edges { node { __typename } } } } }`,
    unshare: `mutation($p: ID!, $u: ID!) { unsharePatient(patientId: $p, userId: $u) { id } }`,
    progress: `subscription($jobId: ID!) { inferenceProgress(jobId: $jobId) { stage status } }`,
  };

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob, carol] = await Promise.all([
      createSignedInUser(server),
      createSignedInUser(server),
      createSignedInUser(server),
    ]);
    admin = await createSignedInUser(server, { role: Role.ADMIN });
    researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
    patientId = await createPatient(server, alice.token);
    expect(
      (
        await server.gql(
          `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`,
          { p: patientId, u: bob.id },
          alice.token,
        )
      ).errors,
    ).toBeUndefined();
    const up = await uploadImages(server, bob.token, { patientId }, [{ name: 'a.jpg', data: fixture(JPEGS[0]) }]);
    imageId = up.data.uploadImages[0].id;

    const em = server.services.db.orm.em.fork();
    const now = new Date();
    const job = em.create(InferenceJob, {
      owner: bob.id,
      kind: JobKind.CLASSIFY,
      status: JobStatus.SUCCEEDED,
      stage: 'done',
      progress: 1,
      attempts: 1,
      request: { imageIds: [imageId] },
      resultIds: [],
      total: 1,
      startedAt: now,
      finishedAt: now,
      createdAt: now,
      updatedAt: now,
    } as never) as InferenceJob;
    const prediction = seedPrediction(
      em,
      { owner: bob.id, job, imageId, patientId, members: [member], at: now },
      { probabilities: [{ label: 'nevus', probability: 0.9 }] },
    );
    const segmentation = seedSegmentation(em, {
      owner: bob.id,
      imageId,
      patientId,
      members: [member],
      at: now,
    });
    job.resultIds = [prediction.id];
    await em.flush();
    [predictionId, segmentationId, jobId] = [prediction.id, segmentation.id, job.id];
  });
  afterAll(() => server?.close());

  const read = async (token: string) => {
    const [p, s, j] = await Promise.all([
      server.gql<any>(Q.prediction, { id: predictionId }, token),
      server.gql<any>(Q.segmentation, { id: segmentationId }, token),
      server.gql<any>(Q.job, { id: jobId }, token),
    ]);
    return {
      prediction: p.data?.prediction?.id ?? null,
      segmentation: s.data?.segmentation?.id ?? null,
      job: j.data?.job?.id ?? null,
      urls: [p.data?.prediction?.gradCam?.heatmapUrl, s.data?.segmentation?.maskUrl].filter(Boolean).length,
    };
  };

  /** The first message of an inferenceProgress subscription over graphql-ws: an event, or the error text. */
  async function subscribeOnce(token: string): Promise<string> {
    const client = await connectWs(server.url, token);
    try {
      const first = await client
        .iterate<{ inferenceProgress: { stage: string } }>({ query: Q.progress, variables: { jobId } })
        .next();
      return first.value?.errors
        ? JSON.stringify(first.value.errors)
        : String(first.value?.data?.inferenceProgress.stage);
    } catch (e) {
      return JSON.stringify(e);
    } finally {
      await client.dispose();
    }
  }

  it('while shared: the sharee, the patient owner and admins read the results; others do not', async () => {
    const all = { prediction: predictionId, segmentation: segmentationId, job: jobId, urls: 2 };
    expect(await read(bob.token)).toEqual(all);
    // The patient's owner and admins see a sharee's results (the job stays its owner's and admins').
    expect(await read(alice.token)).toEqual({ ...all, job: null });
    expect(await read(admin.token)).toEqual(all);
    expect(await read(carol.token)).toEqual({ prediction: null, segmentation: null, job: null, urls: 0 });
    expect(await read(researcher.token)).toEqual({ prediction: null, segmentation: null, job: null, urls: 0 });
    expect(await subscribeOnce(bob.token)).toBe('DONE');
  });

  it('after unsharePatient: the former sharee reads none of them and mints no URL, by id, by subscription or through the patient', async () => {
    expect((await server.gql(Q.unshare, { p: patientId, u: bob.id }, alice.token)).errors).toBeUndefined();
    expect(await read(bob.token)).toEqual({ prediction: null, segmentation: null, job: null, urls: 0 });
    expect(await subscribeOnce(bob.token)).toMatch(/NOT_FOUND/);
    // Patient.predictions / segmentations / latestPrediction / timeline hang off a patient bob can no longer see.
    expect(errorCode(await server.gql(Q.history, { id: patientId }, bob.token))).toBe('NOT_FOUND');
    // The owner and admins keep everything.
    expect(await read(alice.token)).toEqual({
      prediction: predictionId,
      segmentation: segmentationId,
      job: null,
      urls: 2,
    });
    expect(await read(admin.token)).toMatchObject({
      prediction: predictionId,
      segmentation: segmentationId,
      job: jobId,
    });
    const history = await server.gql<any>(Q.history, { id: patientId }, alice.token);
    expect(history.errors).toBeUndefined();
    expect(history.data.patient.predictions.edges.map((e: any) => e.node.id)).toEqual([predictionId]);

    // Shared again: access comes back at once.
    await server.gql(
      `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`,
      { p: patientId, u: bob.id },
      alice.token,
    );
    expect(await read(bob.token)).toEqual({
      prediction: predictionId,
      segmentation: segmentationId,
      job: jobId,
      urls: 2,
    });
  });

  it('a progress subscription opened while shared stops minting Grad-CAM URLs once the share is taken back', async () => {
    const em = server.services.db.orm.em.fork();
    const running = em.create(InferenceJob, {
      owner: bob.id,
      kind: JobKind.CLASSIFY,
      status: JobStatus.RUNNING,
      stage: 'model',
      progress: 0.2,
      attempts: 1,
      request: { imageIds: [imageId] },
      resultIds: [],
      total: 2,
      startedAt: new Date(),
      createdAt: new Date(),
      updatedAt: new Date(),
    } as never) as InferenceJob;
    await em.flush();
    const publish = (stage: 'gradcam' | 'done', i: number) =>
      server.services.inference.progress.publish({
        jobId: running.id,
        stage,
        status: stage === 'done' ? JobStatus.SUCCEEDED : JobStatus.RUNNING,
        progress: stage === 'done' ? 1 : 0.5,
        attempt: 1,
        imageCount: 2,
        imageIndex: i,
        gradCam:
          stage === 'gradcam'
            ? { method: 'grad-cam', mapSha256: String(i).repeat(64), imageSha256: 'e'.repeat(64) }
            : null,
      });
    const client = await connectWs(server.url, bob.token);
    const events: any[] = [];
    const finished = new Promise<void>((resolve, reject) =>
      client.subscribe(
        {
          query: `subscription($jobId: ID!) { inferenceProgress(jobId: $jobId) { stage imageIndex gradCam { heatmapUrl } } }`,
          variables: { jobId: running.id },
        },
        {
          next: (r) => (r.errors ? reject(r.errors) : events.push((r.data as any).inferenceProgress)),
          error: reject,
          complete: resolve,
        },
      ),
    );
    try {
      await publish('gradcam', 0);
      while (events.length < 1) await new Promise((r) => setTimeout(r, 20));
      await server.gql(Q.unshare, { p: patientId, u: bob.id }, alice.token);
      await publish('gradcam', 1);
      await publish('done', 1);
      await finished;
    } finally {
      await client.dispose();
      await server.gql(
        `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id } }`,
        { p: patientId, u: bob.id },
        alice.token,
      );
    }
    expect(events.map((e) => [e.stage, e.imageIndex, e.gradCam ? 'url' : null])).toEqual([
      ['GRADCAM', 0, 'url'],
      ['GRADCAM', 1, null],
      ['DONE', 1, null],
    ]);
  });
});
