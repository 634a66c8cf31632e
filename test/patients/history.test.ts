import { Prediction, Role } from '../../src/entities';
import { seedSegmentation } from '../support/results';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, uploadImages } from './helpers';

const member = (model: string) => ({ model, version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 });

/**
 * Detection history: results are written here as the inference jobs write them (rows), so the
 * test is about the connections — newest first, date and model filters, bound cursors, timeline.
 */
describe('detection history', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let patientId: string;
  let imageId: string;
  const day = (d: number) => new Date(Date.UTC(2026, 9, d, 12));

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    bob = await createSignedInUser(server, { role: Role.CLINICIAN });
    patientId = await createPatient(server, alice.token);
    imageId = (await uploadImages(server, alice.token, { patientId }, [{ name: 'a.jpg', data: fixture(JPEGS[0]) }]))
      .data.uploadImages[0].id;
    const em = server.services.db.orm.em.fork();
    const models = ['dg-mobilenet', 'dg-resnet', 'dg-mobilenet', 'dg-resnet'];
    models.forEach((m, i) =>
      em.create(Prediction, {
        owner: alice.id,
        imageId,
        patientId,
        label: `label-${i + 1}`,
        confidence: 0.8,
        malignant: false,
        malignantProbability: 0.2,
        probabilities: [{ label: `label-${i + 1}`, probability: 0.8 }],
        members: [member(m)],
        createdAt: day(i + 1),
        updatedAt: day(i + 1),
      } as never),
    );
    seedSegmentation(em, {
      owner: alice.id,
      imageId,
      patientId,
      members: [member('dg-unet'), member('dg-fcn')],
      at: day(10),
    });
    await em.flush();
  });
  afterAll(() => server?.close());

  const P = `query($id: ID!, $first: Int, $after: String, $since: DateTime, $until: DateTime, $model: String) { patient(id: $id) {
    predictions(first: $first, after: $after, since: $since, until: $until, model: $model) { edges { cursor node { id label createdAt members { model } } } pageInfo { hasNextPage endCursor } }
    segmentations(model: "dg-fcn") { edges { node { id severity metrics { areaPercent } } } }
  } }`;
  const labels = (res: any) => res.data.patient.predictions.edges.map((e: any) => e.node.label);

  it('lists predictions newest first, filtered by date and by model, paged', async () => {
    expect(labels(await server.gql(P, { id: patientId }, alice.token))).toEqual([
      'label-4',
      'label-3',
      'label-2',
      'label-1',
    ]);
    expect(labels(await server.gql(P, { id: patientId, model: 'dg-resnet' }, alice.token))).toEqual([
      'label-4',
      'label-2',
    ]);
    expect(
      labels(
        await server.gql(P, { id: patientId, since: day(2).toISOString(), until: day(4).toISOString() }, alice.token),
      ),
    ).toEqual(['label-3', 'label-2']);
    expect(labels(await server.gql(P, { id: patientId, model: 'unknown' }, alice.token))).toEqual([]);
    const p1: any = await server.gql(P, { id: patientId, first: 3 }, alice.token);
    const p2: any = await server.gql(
      P,
      { id: patientId, first: 3, after: p1.data.patient.predictions.pageInfo.endCursor },
      alice.token,
    );
    expect(labels(p2)).toEqual(['label-1']);
    // The cursor is bound to its filter.
    const wrong = await server.gql(
      P,
      { id: patientId, first: 3, model: 'dg-resnet', after: p1.data.patient.predictions.pageInfo.endCursor },
      alice.token,
    );
    expect(wrong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const seg: any = await server.gql(P, { id: patientId }, alice.token);
    expect(seg.data.patient.segmentations.edges).toEqual([
      { node: { id: expect.any(String), severity: 'MODERATE', metrics: { areaPercent: 12.5 } } },
    ]);
    // Nobody else's business.
    expect((await server.gql(P, { id: patientId }, bob.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('puts predictions and segmentations on the timeline', async () => {
    const res: any = await server.gql(
      `query($id: ID!) { patient(id: $id) { latestPrediction { label } timeline(first: 50) { edges { node { __typename
        ... on PredictionEvent { label imageId } ... on SegmentationEvent { severity areaPercent } } } } } }`,
      { id: patientId },
      alice.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.patient.latestPrediction.label).toBe('label-4');
    const kinds = res.data.patient.timeline.edges.map((e: any) => e.node.__typename);
    // Upload and creation happened now; the results are dated in October 2026 (rows written above).
    expect(kinds).toEqual([
      'ImageUploadedEvent',
      'PatientCreatedEvent',
      'SegmentationEvent',
      'PredictionEvent',
      'PredictionEvent',
      'PredictionEvent',
      'PredictionEvent',
    ]);
    expect(res.data.patient.timeline.edges[2].node).toMatchObject({ severity: 'MODERATE', areaPercent: 12.5 });
    expect(res.data.patient.timeline.edges[3].node).toMatchObject({ label: 'label-4', imageId });
  });
});
