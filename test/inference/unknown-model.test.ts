import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { Q, seedImages } from './helpers';

/** Issue [9]: a misspelt model name says that no model has that name and lists the names there are. */
let server: TestServer;
let alice: SignedInUser;
let imageId: string;

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
}, 60_000);

afterAll(() => server?.close());

it('classifyImage with a misspelt model: MODEL_UNAVAILABLE naming the classifiers, nothing queued', async () => {
  const r = await server.gql<any>(Q.classify, { imageId, models: [{ model: 'dg-gap-clasifier' }] }, alice.token);
  expect(r.data).toBeNull();
  expect(r.errors).toHaveLength(1);
  const [error] = r.errors!;
  expect(error.message).toBe(
    'no model is named "dg-gap-clasifier"; the classification models are: dg-gap-classifier, dg-mlp-classifier',
  );
  expect(error.extensions).toMatchObject({
    code: 'MODEL_UNAVAILABLE',
    field: 'models[0].model',
    model: 'dg-gap-clasifier',
    models: ['dg-gap-classifier', 'dg-mlp-classifier'],
  });
});

it('segmentImages lists the segmentation models; a known model without that version keeps its own message', async () => {
  const seg = await server.gql<any>(Q.segment, { imageIds: [imageId], members: [{ model: 'dg-unet' }] }, alice.token);
  const models = (seg.errors![0].extensions as { models: string[] }).models;
  expect(models.length).toBeGreaterThan(0);
  expect(models).not.toContain('dg-gap-classifier');
  expect(seg.errors![0].message).toBe(`no model is named "dg-unet"; the segmentation models are: ${models.join(', ')}`);

  const version = await server.gql<any>(
    Q.classify,
    { imageId, models: [{ model: 'dg-gap-classifier', version: '9.9.9' }] },
    alice.token,
  );
  expect(version.errors![0]).toMatchObject({
    message: 'model dg-gap-classifier has no version 9.9.9',
    extensions: { code: 'MODEL_UNAVAILABLE', field: 'models[0].version' },
  });
});
