import type { ChildProcess } from 'node:child_process';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { killWorkers, startWorkerProcess } from '../support/workers';
import { seedImages } from '../inference/helpers';
import { EQ, refusal } from './helpers';

/**
 * Named ensembles across processes: two api processes (catalogue only, no ONNX sessions: the
 * scaled-out layout) and a `dermagraph worker` on one PostgreSQL and Redis. An ensemble defined on
 * one api is used on the other, the worker runs it, and a change or deletion on either is seen by
 * the next request on the other: the definition lives in the database, not in a process.
 */
let a: TestServer;
let b: TestServer;
let admin: SignedInUser;
let alice: SignedInUser;
let imageId: string;
const workers: ChildProcess[] = [];

const env = { JOB_MODE: 'queue', API_LOAD_MODELS: 'auto' };

beforeAll(async () => {
  a = await startTestServer({ env });
  b = await startTestServer({
    env: { ...env, DATABASE_URL: a.config.DATABASE_URL, REDIS_PREFIX: a.config.REDIS_PREFIX, DATA_DIR: a.dataDir },
  });
  await startWorkerProcess(a, 'w1', workers);
  admin = await createSignedInUser(a, { role: Role.ADMIN });
  alice = await createSignedInUser(a, { role: Role.CLINICIAN });
  [imageId] = await seedImages(a, alice.id, ['ISIC_0000184']);
}, 120_000);

afterAll(async () => {
  killWorkers(workers);
  await b?.close();
  await a?.close();
});

async function classifyOn(server: TestServer, ensemble: string): Promise<any> {
  const r = await server.gql<any>(EQ.classify, { imageId, ensemble, wait: true }, alice.token);
  expect(r.errors).toBeUndefined();
  expect(r.data.classifyImage.status).toBe('SUCCEEDED');
  return (await server.gql<any>(EQ.prediction, { id: r.data.classifyImage.resultIds[0] }, alice.token)).data.prediction;
}

it('defined on one api, used on the other, run by the worker; changed and deleted across them', async () => {
  // Neither api holds a session: the worker is where the models run.
  expect([a.services.models.sessionCounts().size, b.services.models.sessionCounts().size]).toEqual([0, 0]);
  const created = await a.gql<any>(
    EQ.create,
    { name: 'shared-pair', members: [{ model: 'dg-gap-classifier' }, { model: 'dg-mlp-classifier', weight: 3 }] },
    admin.token,
  );
  expect(created.errors).toBeUndefined();
  expect((await b.gql<any>(EQ.one, { name: 'shared-pair' }, alice.token)).data.classificationEnsemble.members).toEqual([
    { model: 'dg-gap-classifier', version: null, weight: 1, normalisedWeight: 0.25 },
    { model: 'dg-mlp-classifier', version: null, weight: 3, normalisedWeight: 0.75 },
  ]);

  const p = await classifyOn(b, 'shared-pair');
  expect(p.ensemble).toBe('shared-pair');
  expect(p.memberResults.map((m: any) => [m.model, m.version, m.weight])).toEqual([
    ['dg-gap-classifier', '1.0.0', 0.25],
    ['dg-mlp-classifier', '1.0.0', 0.75],
  ]);
  const [g, m] = p.memberResults.map((x: any) => x.malignantProbability);
  expect(p.malignantProbability).toBeCloseTo(0.25 * g + 0.75 * m, 12);

  // Changed on B: A's next classification runs the new weights.
  const updated = await b.gql<any>(
    EQ.update,
    {
      name: 'shared-pair',
      members: [
        { model: 'dg-gap-classifier', weight: 1 },
        { model: 'dg-mlp-classifier', weight: 1 },
      ],
    },
    admin.token,
  );
  expect(updated.errors).toBeUndefined();
  const q = await classifyOn(a, 'shared-pair');
  expect(q.memberResults.map((x: any) => x.weight)).toEqual([0.5, 0.5]);
  // Same image, same models: each member's own answer is the same whichever weights it had.
  expect(q.memberResults.map((x: any) => x.probabilities)).toEqual(p.memberResults.map((x: any) => x.probabilities));
  expect(q.malignantProbability).toBeCloseTo((g + m) / 2, 12);

  // Deleted on A: B refuses it at once.
  expect((await a.gql<any>(EQ.remove, { name: 'shared-pair' }, admin.token)).errors).toBeUndefined();
  const gone = await b.gql<any>(EQ.classify, { imageId, ensemble: 'shared-pair' }, alice.token);
  expect(refusal(gone)).toEqual({ code: 'MODEL_UNAVAILABLE', field: 'ensemble', reason: 'UNKNOWN_ENSEMBLE' });

  // The default (the seeded default-classifier: dg-gap-classifier alone) runs the same way on the worker.
  const d = await b.gql<any>(EQ.classify, { imageId, wait: true }, alice.token);
  expect(d.data.classifyImage.status).toBe('SUCCEEDED');
  const dp = (await b.gql<any>(EQ.prediction, { id: d.data.classifyImage.resultIds[0] }, alice.token)).data.prediction;
  expect(dp).toMatchObject({ ensemble: 'default-classifier' });
  expect(dp.memberResults.map((x: any) => x.model)).toEqual(['dg-gap-classifier']);
}, 120_000);
