import { randomUUID } from 'node:crypto';
import { Image, ImageFormat, Lesion, Patient, Prediction, Role } from '../../src/entities';
import { queries, statementCounter, type StatementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';

const PAGE_QUERY = `query($first: Int) { patients(first: $first) { edges { node {
  id displayName dateOfBirth imageCount
  lesions { id label }
  images(first: 3) { edges { node { id width url(variant: THUMBNAIL) lesion { id bodySite } } } pageInfo { hasNextPage } }
  latestPrediction { id label confidence imageId }
  predictions(first: 5) { edges { node { id label } } pageInfo { hasNextPage } }
  segmentations(first: 5) { edges { node { id severity } } }
} } pageInfo { hasNextPage endCursor } } }`;

/**
 * DataLoaders at work: a page of patients with their lesions, first images (and each image's lesion)
 * and latest prediction costs the same number of SQL statements for 5 patients as for 50.
 */
describe('SQL statements per page of patients', () => {
  let server: TestServer;
  let counter: StatementCounter;
  let alice: SignedInUser;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    // 60 patients, each with a lesion, two images and two predictions (rows written directly: this test is about reads).
    const em = server.services.db.orm.em.fork();
    const t0 = Date.now() - 3_600_000;
    for (let i = 0; i < 60; i++) {
      const at = (k: number) => new Date(t0 + i * 1000 + k);
      const patient = em.create(Patient, {
        owner: alice.id,
        externalId: `SQL-${i}`,
        displayName: `Patient ${i}`,
        createdAt: at(0),
        updatedAt: at(0),
      });
      const lesion = em.create(Lesion, {
        patient,
        bodySite: 'back',
        label: `L${i}`,
        createdAt: at(1),
        updatedAt: at(1),
      });
      for (let k = 0; k < 2; k++) {
        const image = em.create(Image, {
          patient,
          lesion,
          uploadedBy: alice.id,
          sha256: randomUUID().replace(/-/g, '').padEnd(64, '0'),
          format: ImageFormat.JPEG,
          mimeType: 'image/jpeg',
          byteSize: 1000,
          width: 250,
          height: 250,
          orientation: 1,
          createdAt: at(2 + k),
          updatedAt: at(2 + k),
        });
        em.create(Prediction, {
          owner: alice.id,
          imageId: image.id,
          patientId: patient.id,
          label: k ? 'malignant' : 'benign',
          confidence: 0.9,
          malignant: !!k,
          malignantProbability: k ? 0.9 : 0.1,
          probabilities: [],
          members: [],
          createdAt: at(4 + k),
          updatedAt: at(4 + k),
        } as never);
      }
    }
    await em.flush();
    counter = await statementCounter(server, alice);
  });
  afterAll(async () => {
    await counter?.close();
    await server?.close();
  });

  async function run(first: number) {
    const res = await counter.run(PAGE_QUERY, { first });
    expect(res.errors).toBeUndefined();
    return { data: res.data, count: queries(res.statements).length };
  }

  it('does not grow with the page size', async () => {
    const small = await run(5);
    const large = await run(50);
    expect(large.data.patients.edges).toHaveLength(50);
    // Every patient came back whole: its lesion, 2 images (with their lesion) and the newest prediction.
    for (const { node } of large.data.patients.edges) {
      expect(node.lesions).toHaveLength(1);
      expect(node.imageCount).toBe(2);
      expect(node.images.edges).toHaveLength(2);
      expect(node.images.edges[0].node.lesion.id).toBe(node.lesions[0].id);
      expect(node.latestPrediction.label).toBe('malignant');
      expect(node.latestPrediction.imageId).toBe(node.images.edges[0].node.id);
      expect(node.predictions.edges.map((e: any) => e.node.label)).toEqual(['malignant', 'benign']);
      expect(node.segmentations.edges).toEqual([]);
    }
    expect(small.count).toBeGreaterThanOrEqual(5); // the hook saw the statements
    // patients, image counts, first images, lesions, the images' lesions, latest predictions, first predictions,
    // first segmentations, the predictions' images' sha256 (one or two batches depending on when the loaders
    // resolve, so 9 or 10). One fixed bound for 5 and for 50 patients: a per-patient query would add 45+.
    expect(small.count).toBeLessThanOrEqual(10);
    expect(large.count).toBeLessThanOrEqual(10);
    expect(Math.abs(large.count - small.count)).toBeLessThanOrEqual(1);
  });
});
