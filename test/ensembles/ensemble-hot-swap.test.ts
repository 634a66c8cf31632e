import { join } from 'node:path';
import { Role } from '../../src/entities';
import { packPackage } from '../../src/models-registry/package/package';
import {
  IMAGES,
  inTempDir,
  makeClassifierPackage,
  referenceProbabilities,
  tensorOf,
} from '../fixtures/models/packages';
import { Q as MQ, uploadFile } from '../models/helpers';
import { seedImages, subscribeProgress } from '../inference/helpers';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { EQ, MEMBER_FIELDS } from './helpers';

/**
 * A named ensemble whose member is hot-swapped while clinicians classify with it, over HTTP and
 * WebSocket: no request fails, every prediction names the member version that ran and carries that
 * version's own output (checked against the fixture classifier computed by hand), and the ensemble's
 * answer is the weighted mean of what its members answered.
 */
let server: TestServer;
let admin: SignedInUser;
let alice: SignedInUser;
let imageIds: string[];
/** tiny-classifier's probabilities for each image, by version, computed by hand. */
const reference: Record<string, number[]>[] = [];

const ENSEMBLE = 'swap-pair';
const TINY = 'tiny-classifier';
const VERSIONS = { '1.0.0': 'v1', '2.0.0': 'v2' } as const;

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  imageIds = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000151']);
  for (const image of IMAGES.slice(0, 2)) {
    const tensor = await tensorOf(image);
    reference.push({ '1.0.0': referenceProbabilities(tensor, 'v1'), '2.0.0': referenceProbabilities(tensor, 'v2') });
  }
  // The server keeps its own copies of what was uploaded.
  await inTempDir(async (work) => {
    for (const [version, model] of Object.entries(VERSIONS)) {
      const dir = await makeClassifierPackage(work, { version, model });
      const packed = (await packPackage(dir, join(work, `${TINY}-${version}.zip`))).outFile;
      const r = await uploadFile(server, packed, admin.token, version === '1.0.0');
      expect(r.errors).toBeUndefined();
    }
  });
  const created = await server.gql<any>(
    EQ.create,
    { name: ENSEMBLE, members: [{ model: 'dg-gap-classifier' }, { model: TINY }] },
    admin.token,
  );
  expect(created.errors).toBeUndefined();
}, 120_000);

afterAll(() => server?.close());

const activate = (version: string) => server.gql<any>(MQ.activate, { name: TINY, version }, admin.token);

/** Checks one prediction of the ensemble against the hand-computed member; returns the tiny member's version. */
function checkPrediction(p: any, imageIndex: number): string {
  expect(p.ensemble).toBe(ENSEMBLE);
  expect(p.memberResults.map((m: any) => m.model)).toEqual(['dg-gap-classifier', TINY]);
  const tiny = p.memberResults[1];
  expect(Object.keys(VERSIONS)).toContain(tiny.version);
  tiny.probabilities.forEach((lp: any, i: number) =>
    expect(lp.probability).toBeCloseTo(reference[imageIndex][tiny.version][i], 4),
  );
  // The ensemble's answer is the weighted mean of its members' own answers (weights 1:1 -> 0.5 each).
  p.probabilities.forEach((lp: any, i: number) => {
    const mean = p.memberResults.reduce((acc: number, m: any) => acc + m.weight * m.probabilities[i].probability, 0);
    expect(lp.probability).toBeCloseTo(mean, 6);
  });
  expect(p.memberResults.map((m: any) => m.weight)).toEqual([0.5, 0.5]);
  return tiny.version;
}

it('a member activated again and again while clinicians classify with the ensemble: no request fails, each result names the version that ran and carries its output', async () => {
  const seen = new Set<string>();
  const failures: unknown[] = [];
  let swapsDone = false;
  let firstDone!: () => void;
  const firstFinished = new Promise<void>((r) => (firstDone = r));
  const classifyLoop = async (loop: number) => {
    let after = 0; // requests sent after the last swap, so the last version is seen too
    for (let n = 0; after < 2; n++) {
      if (swapsDone) after++;
      const imageIndex = (loop + n) % imageIds.length;
      const r = await server.gql<any>(
        EQ.classify,
        { imageId: imageIds[imageIndex], ensemble: ENSEMBLE, wait: true },
        alice.token,
      );
      if (r.errors || r.data.classifyImage.status !== 'SUCCEEDED') {
        failures.push(r.errors ?? r.data.classifyImage);
        continue;
      }
      const p = (await server.gql<any>(EQ.prediction, { id: r.data.classifyImage.resultIds[0] }, alice.token)).data
        .prediction;
      seen.add(checkPrediction(p, imageIndex));
      firstDone();
    }
  };
  const swapper = async () => {
    await firstFinished;
    for (const version of ['2.0.0', '1.0.0', '2.0.0', '1.0.0', '2.0.0']) {
      const r = await activate(version);
      expect(r.errors).toBeUndefined();
      expect(r.data.activateModelVersion).toMatchObject({ version, active: true });
      await new Promise((res) => setTimeout(res, 15));
    }
    swapsDone = true;
  };
  await Promise.all([swapper(), ...[0, 1, 2, 3].map(classifyLoop)]);
  expect(failures).toEqual([]);
  expect([...seen].sort()).toEqual(['1.0.0', '2.0.0']);
}, 180_000);

it('over WebSocket, the job’s persisted event carries the same members’ outputs and the abstention fields as prediction(id)', async () => {
  await activate('1.0.0');
  const job = await server.gql<any>(
    EQ.classify,
    { imageId: imageIds[0], ensemble: ENSEMBLE, wait: false },
    alice.token,
  );
  expect(job.errors).toBeUndefined();
  const jobId = job.data.classifyImage.id;
  const stream = await subscribeProgress(
    server.url,
    alice.token,
    jobId,
    `subscription($jobId: ID!) { inferenceProgress(jobId: $jobId) { stage status prediction { ${MEMBER_FIELDS} abstained flags } } }`,
  );
  await stream.done;
  await stream.close();
  const { events, errors } = stream;
  expect(errors).toEqual([]);
  expect(events.at(-1)).toMatchObject({ stage: 'DONE', status: 'SUCCEEDED' });
  const overWs = events.find((e) => e.prediction)?.prediction;
  expect(overWs).toBeDefined();
  expect(checkPrediction(overWs, 0)).toBe('1.0.0');
  expect(typeof overWs.abstained).toBe('boolean');
  const overHttp = (await server.gql<any>(EQ.prediction, { id: overWs.id }, alice.token)).data.prediction;
  expect(overWs.memberResults).toEqual(overHttp.memberResults);
  expect(overWs.memberDisagreement).toEqual(overHttp.memberDisagreement);
}, 60_000);
