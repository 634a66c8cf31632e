import { InferenceJob, JobKind, JobStatus, Role } from '../../src/entities';
import { buildContext } from '../../src/app/build-context';
import type { AppContext } from '../../src/schema/context';
import { seedSegmentation, seedPrediction } from '../support/results';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, uploadImages } from '../patients/helpers';

/**
 * One patient of alice's, shared with bob, with a lesion and an image bob uploaded; bob's
 * CLASSIFY job (two predictions of the image, the second newer) and SEGMENT job (one
 * segmentation). The result rows are written as the runner writes them, so no model runs.
 */
export interface World {
  server: TestServer;
  alice: SignedInUser;
  bob: SignedInUser;
  carol: SignedInUser;
  admin: SignedInUser;
  researcher: SignedInUser;
  patientId: string;
  lesionId: string;
  imageId: string;
  classifyJobId: string;
  segmentJobId: string;
  /** Oldest first. */
  predictionIds: [string, string];
  segmentationId: string;
}

const member = { model: 'dg-test', version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 };

export async function buildWorld(): Promise<World> {
  const server = await startTestServer();
  const [alice, bob, carol] = await Promise.all([
    createSignedInUser(server),
    createSignedInUser(server),
    createSignedInUser(server),
  ]);
  const admin = await createSignedInUser(server, { role: Role.ADMIN });
  const researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
  const patientId = await createPatient(server, alice.token);
  const setup = await server.gql<any>(
    `mutation($p: ID!, $u: ID!) { sharePatient(patientId: $p, userId: $u) { id }
       createLesion(patientId: $p, input: { bodySite: "back", label: "L1" }) { id } }`,
    { p: patientId, u: bob.id },
    alice.token,
  );
  if (setup.errors) throw new Error(JSON.stringify(setup.errors));
  const lesionId = setup.data.createLesion.id;
  const up = await uploadImages(server, bob.token, { patientId, lesionId }, [
    { name: 'a.jpg', data: fixture(JPEGS[0]) },
  ]);
  if (up.errors) throw new Error(JSON.stringify(up.errors));
  const imageId = up.data.uploadImages[0].id;

  const em = server.services.db.orm.em.fork();
  const t0 = Date.now() - 60_000;
  const job = (kind: JobKind) =>
    em.create(InferenceJob, {
      owner: bob.id,
      kind,
      status: JobStatus.SUCCEEDED,
      stage: 'done',
      progress: 1,
      attempts: 1,
      request: { imageIds: [imageId] },
      resultIds: [],
      total: 1,
      createdAt: new Date(t0),
      updatedAt: new Date(t0),
    } as never) as InferenceJob;
  const classify = job(JobKind.CLASSIFY);
  const segment = job(JobKind.SEGMENT);
  const predictions = [0, 1].map((k) =>
    seedPrediction(
      em,
      {
        owner: bob.id,
        imageId,
        patientId,
        members: [member],
        at: new Date(t0 + 1000 * (k + 1)),
        job: k ? classify : null,
      },
      {
        label: k ? 'melanoma' : 'nevus',
        malignant: !!k,
        malignantProbability: k ? 0.9 : 0.1,
        probabilities: [{ label: 'nevus', probability: 0.9 }],
      },
    ),
  );
  const segmentation = seedSegmentation(em, {
    owner: bob.id,
    imageId,
    patientId,
    members: [member],
    at: new Date(t0 + 3000),
    job: segment,
  });
  classify.resultIds = [predictions[1].id];
  segment.resultIds = [segmentation.id];
  await em.flush();
  return {
    server,
    alice,
    bob,
    carol,
    admin,
    researcher,
    patientId,
    lesionId,
    imageId,
    classifyJobId: classify.id,
    segmentJobId: segment.id,
    predictionIds: [predictions[0].id, predictions[1].id],
    segmentationId: segmentation.id,
  };
}

/** A request context of `user`, as the server builds one (for calling field resolvers directly). */
export function contextOf(server: TestServer, user: SignedInUser): AppContext {
  return buildContext({
    services: server.services,
    user: { id: user.id, email: user.email, role: user.role },
    ip: '127.0.0.1',
    userAgent: 'jest',
  });
}

export async function unshare(w: World, user: SignedInUser): Promise<void> {
  const res = await w.server.gql(
    `mutation($p: ID!, $u: ID!) { unsharePatient(patientId: $p, userId: $u) { id } }`,
    { p: w.patientId, u: user.id },
    w.alice.token,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}
