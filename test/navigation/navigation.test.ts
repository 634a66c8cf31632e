import { Image } from '../../src/entities';
import { ImageNavigationResolver } from '../../src/modules/images/image-navigation.resolver';
import { ImageResultsResolver } from '../../src/modules/jobs/api/image-results.resolver';
import {
  JobResultsResolver,
  PredictionImageResolver,
  SegmentationImageResolver,
} from '../../src/modules/jobs/api/result-navigation.resolver';
import { toJob, toPrediction, toSegmentation } from '../../src/modules/jobs/api/views';
import { ResultHistoryArgs } from '../../src/modules/patients/patients.types';
import { buildWorld, contextOf, unshare, type World } from './helpers';

/**
 * Issue [9], navigation: from a job to its results, from an image to its results, patient and
 * uploader, from a result to its image, from a timeline event or an audit entry to the user.
 * Every field follows the patients access policy: a share taken back hides what it led to.
 */
describe('navigation fields', () => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld();
  });
  afterAll(() => w?.server.close());

  const gql = async (query: string, variables: Record<string, unknown>, token: string) => {
    const res = await w.server.gql<any>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data;
  };

  it('InferenceJob.predictions / segmentations: the result objects, by kind', async () => {
    const q = `query($id: ID!) { job(id: $id) { kind resultIds predictions { id label imageId gradCam { heatmapUrl } }
      segmentations { id severity maskUrl } } }`;
    const classify = (await gql(q, { id: w.classifyJobId }, w.bob.token)).job;
    expect(classify.predictions.map((p: any) => p.id)).toEqual(classify.resultIds);
    expect(classify.predictions[0]).toMatchObject({ id: w.predictionIds[1], label: 'melanoma', imageId: w.imageId });
    expect(classify.predictions[0].gradCam.heatmapUrl).toMatch(/^http/);
    expect(classify.segmentations).toEqual([]);

    const segment = (await gql(q, { id: w.segmentJobId }, w.bob.token)).job;
    expect(segment.predictions).toEqual([]);
    expect(segment.segmentations).toEqual([expect.objectContaining({ id: w.segmentationId, severity: 'MODERATE' })]);
  });

  it('Image.patient, uploadedBy, latestPrediction, predictions and segmentations', async () => {
    const q = `query($id: ID!) { image(id: $id) { id patientId patient { id } uploadedBy { id email }
      latestPrediction { id label gradCam { overlayUrl(opacity: 0.5) } }
      predictions { edges { node { id } } pageInfo { hasNextPage } }
      segmentations(first: 1) { edges { node { id } } } } }`;
    const image = (await gql(q, { id: w.imageId }, w.bob.token)).image;
    expect(image.patient.id).toBe(image.patientId);
    expect(image.uploadedBy).toEqual({ id: w.bob.id, email: w.bob.email });
    expect(image.latestPrediction).toMatchObject({ id: w.predictionIds[1], label: 'melanoma' });
    expect(image.latestPrediction.gradCam.overlayUrl).toMatch(/^http/);
    // Newest first.
    expect(image.predictions.edges.map((e: any) => e.node.id)).toEqual([...w.predictionIds].reverse());
    expect(image.predictions.pageInfo.hasNextPage).toBe(false);
    expect(image.segmentations.edges.map((e: any) => e.node.id)).toEqual([w.segmentationId]);
  });

  it('Image.predictions pages with a cursor and filters by date and model', async () => {
    const q = `query($id: ID!, $after: String, $model: String, $since: DateTime) { image(id: $id) {
      predictions(first: 1, after: $after, model: $model, since: $since) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;
    const first = (await gql(q, { id: w.imageId }, w.alice.token)).image.predictions;
    expect(first.edges.map((e: any) => e.node.id)).toEqual([w.predictionIds[1]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await gql(q, { id: w.imageId, after: first.pageInfo.endCursor }, w.alice.token)).image.predictions;
    expect(next.edges.map((e: any) => e.node.id)).toEqual([w.predictionIds[0]]);
    expect(next.pageInfo.hasNextPage).toBe(false);

    const other = (await gql(q, { id: w.imageId, model: 'no-such-model' }, w.alice.token)).image.predictions;
    expect(other.edges).toEqual([]);
    const byModel = (await gql(q, { id: w.imageId, model: 'dg-test' }, w.alice.token)).image.predictions;
    expect(byModel.edges).toHaveLength(1);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await gql(q, { id: w.imageId, since: future }, w.alice.token)).image.predictions.edges).toEqual([]);
  });

  it('Prediction.image and Segmentation.image', async () => {
    const q = `query($p: ID!, $s: ID!) { prediction(id: $p) { image { id lesion { id } } }
      segmentation(id: $s) { image { id patient { id } } } }`;
    const data = await gql(q, { p: w.predictionIds[0], s: w.segmentationId }, w.bob.token);
    expect(data.prediction.image).toEqual({ id: w.imageId, lesion: { id: w.lesionId } });
    expect(data.segmentation.image).toEqual({ id: w.imageId, patient: { id: w.patientId } });
  });

  it('a round trip from job to result to image to patient and back', async () => {
    const q = `query($id: ID!) { job(id: $id) { predictions { image { patient { id images { edges { node {
      latestPrediction { id } } } } } } } } }`;
    const job = (await gql(q, { id: w.classifyJobId }, w.bob.token)).job;
    const patient = job.predictions[0].image.patient;
    expect(patient.id).toBe(w.patientId);
    expect(patient.images.edges[0].node.latestPrediction.id).toBe(w.predictionIds[1]);
  });

  it('timeline events name their actor as a User; audit entries their user and actor (admins)', async () => {
    const timeline = `query($id: ID!) { patient(id: $id) { timeline { edges { node {
      __typename ... on PatientCreatedEvent { actorId actor { id } } } } } } }`;
    const events = (await gql(timeline, { id: w.patientId }, w.bob.token)).patient.timeline.edges;
    const created = events.find((e: any) => e.node.__typename === 'PatientCreatedEvent').node;
    expect(created).toEqual({ __typename: 'PatientCreatedEvent', actorId: w.alice.id, actor: { id: w.alice.id } });

    const audit = `query { auditLog(first: 100) { edges { node { userId user { id } actorId actor { id } } } } }`;
    const entries = (await gql(audit, {}, w.admin.token)).auditLog.edges.map((e: any) => e.node);
    const bobs = entries.filter((e: any) => e.userId === w.bob.id);
    expect(bobs.length).toBeGreaterThan(0);
    for (const e of bobs) expect(e.user).toEqual({ id: w.bob.id });
    for (const e of entries) expect(e.actor?.id ?? null).toBe(e.actorId ?? null);
  });

  it('a caller who cannot see the patient reaches none of it', async () => {
    const q = `query($p: ID!, $s: ID!, $i: ID!, $j: ID!) { prediction(id: $p) { id } segmentation(id: $s) { id }
      job(id: $j) { id } image(id: $i) { id } }`;
    const res = await w.server.gql<any>(
      q,
      { p: w.predictionIds[0], s: w.segmentationId, i: w.imageId, j: w.classifyJobId },
      w.carol.token,
    );
    expect(res.data?.prediction ?? null).toBeNull();
    expect(res.data?.segmentation ?? null).toBeNull();
    expect(res.data?.job ?? null).toBeNull();
    expect(res.data?.image ?? null).toBeNull();
  });

  describe('once the share is taken back', () => {
    // Objects bob read while the patient was shared with him (a `wait`ing mutation or a subscription
    // holds them across the change); each navigation field checks again when it resolves.
    let job: ReturnType<typeof toJob>;
    let segJob: ReturnType<typeof toJob>;
    let image: Image;
    let prediction: ReturnType<typeof toPrediction>;
    let segmentation: ReturnType<typeof toSegmentation>;

    beforeAll(async () => {
      const ctx = contextOf(w.server, w.bob);
      const svc = ctx.services.inference.service;
      job = toJob((await svc.findJob(ctx.em, w.bob, w.classifyJobId))!);
      segJob = toJob((await svc.findJob(ctx.em, w.bob, w.segmentJobId))!);
      prediction = toPrediction((await svc.findPrediction(ctx.em, w.bob, w.predictionIds[1]))!, ctx, null);
      segmentation = toSegmentation((await svc.findSegmentation(ctx.em, w.bob, w.segmentationId))!);
      image = await ctx.em.findOneOrFail(Image, w.imageId);
      // Reachable before.
      expect(await new JobResultsResolver().predictions(job, contextOf(w.server, w.bob))).toHaveLength(1);
      expect(await new ImageNavigationResolver().patient(image, contextOf(w.server, w.bob))).not.toBeNull();
      await unshare(w, w.bob);
    });

    it('the field resolvers answer null or leave the results out', async () => {
      const ctx = contextOf(w.server, w.bob);
      expect(await new JobResultsResolver().predictions(job, ctx)).toEqual([]);
      expect(await new JobResultsResolver().segmentations(segJob, ctx)).toEqual([]);
      expect(await new PredictionImageResolver().image(prediction, ctx)).toBeNull();
      expect(await new SegmentationImageResolver().image(segmentation, ctx)).toBeNull();
      expect(await new ImageNavigationResolver().patient(image, ctx)).toBeNull();
      const results = new ImageResultsResolver();
      expect(await results.latestPrediction(image, ctx)).toBeNull();
      const args = Object.assign(new ResultHistoryArgs(), { first: 5 });
      expect((await results.predictions(image, args, ctx)).edges).toEqual([]);
      expect(
        (await results.segmentations(image, Object.assign(new ResultHistoryArgs(), { model: 'dg-test' }), ctx)).edges,
      ).toEqual([]);
    });

    it('the owner still reaches everything', async () => {
      const ctx = contextOf(w.server, w.alice);
      expect(await new JobResultsResolver().predictions(job, ctx)).toHaveLength(1);
      expect(await new PredictionImageResolver().image(prediction, ctx)).toMatchObject({ id: w.imageId });
      expect(await new ImageNavigationResolver().patient(image, ctx)).toMatchObject({ id: w.patientId });
      expect(await new ImageResultsResolver().latestPrediction(image, ctx)).toMatchObject({ id: w.predictionIds[1] });
    });

    it('and through the API bob finds nothing of it', async () => {
      const q = `query($j: ID!, $p: ID!) { job(id: $j) { id } prediction(id: $p) { id image { id } } node(id: $p) { id } }`;
      const res = await w.server.gql<any>(q, { j: w.classifyJobId, p: w.predictionIds[1] }, w.bob.token);
      expect(res.data).toEqual({ job: null, prediction: null, node: null });
    });
  });
});
