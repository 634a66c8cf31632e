import { randomUUID } from 'node:crypto';
import { Image, ImageFormat, InferenceJob, JobKind, JobStatus, Patient, Role, Severity } from '../../src/entities';
import { seedSegmentation, seedPrediction } from '../support/results';
import { queries, statementCounter, type StatementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';

const IMAGES_QUERY = `query($id: ID!, $first: Int) { patient(id: $id) { images(first: $first) { edges { node {
  id patient { id } uploadedBy { id }
  latestPrediction { id label gradCam { heatmapUrl } image { id } }
  predictions(first: 3) { edges { node { id image { id } } } pageInfo { hasNextPage } }
  segmentations(first: 3) { edges { node { id } } }
} } } } }`;

const JOB_QUERY = `query($id: ID!) { job(id: $id) { predictions { id image { id patient { id } } } } }`;

const member = { model: 'dg-test', version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 };

/**
 * DataLoaders at work for the navigation fields: a page of images with their patient, uploader,
 * latest prediction (and its image), first results and counts, or a job with its results and their
 * images, costs the same number of SQL statements for 5 images as for 50.
 */
describe('SQL statements per page of images with their results', () => {
  let server: TestServer;
  let counter: StatementCounter;
  let alice: SignedInUser;
  let patientId: string;
  const jobIds: Record<number, string> = {};

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    // One patient with 60 images, each with two predictions and a segmentation; jobs of 5 and of 50 of them.
    const em = server.services.db.orm.em.fork();
    const t0 = Date.now() - 3_600_000;
    const patient = em.create(Patient, {
      owner: alice.id,
      externalId: 'SQL-IMG',
      displayName: 'Patient',
      createdAt: new Date(t0),
      updatedAt: new Date(t0),
    });
    patientId = patient.id;
    const jobs = [5, 50].map((n) => {
      const job = em.create(InferenceJob, {
        owner: alice.id,
        kind: JobKind.CLASSIFY,
        status: JobStatus.SUCCEEDED,
        stage: 'done',
        progress: 1,
        attempts: 1,
        request: {},
        resultIds: [],
        total: n,
      } as never) as InferenceJob;
      jobIds[n] = job.id;
      return { n, job };
    });
    for (let i = 0; i < 60; i++) {
      const at = (k: number) => new Date(t0 + i * 1000 + k);
      const image = em.create(Image, {
        patient,
        uploadedBy: alice.id,
        sha256: randomUUID().replace(/-/g, '').padEnd(64, '0'),
        format: ImageFormat.JPEG,
        mimeType: 'image/jpeg',
        byteSize: 1000,
        width: 250,
        height: 250,
        orientation: 1,
        createdAt: at(1),
        updatedAt: at(1),
      });
      for (let k = 0; k < 2; k++) {
        const p = seedPrediction(
          em,
          { owner: alice.id, imageId: image.id, patientId, members: [member], at: at(2 + k) },
          { label: k ? 'melanoma' : 'nevus', malignant: !!k, malignantProbability: k ? 0.9 : 0.1 },
        );
        for (const { n, job } of jobs) if (k && i < n) job.resultIds = [...job.resultIds, p.id];
      }
      seedSegmentation(
        em,
        { owner: alice.id, imageId: image.id, patientId, members: [member], at: at(4) },
        { severity: Severity.LOW },
      );
    }
    await em.flush();
    counter = await statementCounter(server, alice);
  });
  afterAll(async () => {
    await counter?.close();
    await server?.close();
  });

  async function run(source: string, variableValues: Record<string, unknown>) {
    const res = await counter.run(source, variableValues);
    expect(res.errors).toBeUndefined();
    return { data: res.data, count: queries(res.statements).length };
  }

  it('a page of images with latestPrediction and the rest does not grow with the page size', async () => {
    const small = await run(IMAGES_QUERY, { id: patientId, first: 5 });
    const large = await run(IMAGES_QUERY, { id: patientId, first: 50 });
    expect(small.data.patient.images.edges).toHaveLength(5);
    expect(large.data.patient.images.edges).toHaveLength(50);
    for (const { node } of large.data.patient.images.edges) {
      expect(node.patient.id).toBe(patientId);
      expect(node.uploadedBy.id).toBe(alice.id);
      expect(node.latestPrediction.label).toBe('melanoma');
      expect(node.latestPrediction.image.id).toBe(node.id);
      expect(node.latestPrediction.gradCam.heatmapUrl).toMatch(/^http/);
      expect(node.predictions.edges.map((e: any) => e.node.image.id)).toEqual([node.id, node.id]);
      expect(node.segmentations.edges).toHaveLength(1);
    }
    expect(small.count).toBeGreaterThanOrEqual(5); // the hook saw the statements
    // The patient, its first images, the images' patients, their uploaders, latest predictions, first
    // predictions, first segmentations, the predictions' images: one each, for 5 images as for 50 (a
    // per-image query would add 45 or more).
    expect(small.count).toBeLessThanOrEqual(9);
    expect(large.count).toBeLessThanOrEqual(9);
    expect(Math.abs(large.count - small.count)).toBeLessThanOrEqual(1);
  });

  it("a job's results with their images and patients do not grow with the job", async () => {
    const small = await run(JOB_QUERY, { id: jobIds[5] });
    const large = await run(JOB_QUERY, { id: jobIds[50] });
    expect(small.data.job.predictions).toHaveLength(5);
    expect(large.data.job.predictions).toHaveLength(50);
    for (const p of large.data.job.predictions) expect(p.image.patient.id).toBe(patientId);
    // The job, its predictions, their images' sha256, their images, the images' patients.
    expect(large.count).toBeLessThanOrEqual(6);
    expect(Math.abs(large.count - small.count)).toBeLessThanOrEqual(1);
  });

  it('node(id) for a page of ids costs the same for 5 ids as for 50', async () => {
    const page = await run(IMAGES_QUERY, { id: patientId, first: 50 });
    const ids: string[] = page.data.patient.images.edges.map((e: any) => e.node.id);
    const query = (n: number) =>
      `query { ${ids
        .slice(0, n)
        .map((id, i) => `n${i}: node(id: "${id}") { id ... on Image { latestPrediction { id } } }`)
        .join(' ')} }`;
    const small = await run(query(5), {});
    const large = await run(query(50), {});
    expect(Object.values(large.data).every((n: any) => n.latestPrediction)).toBe(true);
    // Which table holds each id, the images, their latest predictions.
    expect(large.count).toBeLessThanOrEqual(3);
    expect(Math.abs(large.count - small.count)).toBeLessThanOrEqual(1);
  });
});
