import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { seedImages } from '../inference/helpers';

/**
 * The README's named-ensemble examples, read from the README and run as written (placeholders filled
 * in), in order, against a server: an admin's operations with the admin's token, the rest with a
 * clinician's.
 */
const README = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
const start = README.indexOf('# ADMIN: define and change');
const block = README.slice(start, README.indexOf('```', start));
/** One operation per top-level `mutation {` / `query {`, continuation lines included. */
const operations = block
  .split('\n')
  .map((l) => l.trim())
  .reduce<{ admin: boolean; ops: Array<{ admin: boolean; text: string }> }>(
    (acc, line) => {
      if (line.startsWith('#')) return { ...acc, admin: line.startsWith('# ADMIN') };
      if (/^(mutation|query) \{/.test(line)) acc.ops.push({ admin: acc.admin, text: line });
      else if (line && acc.ops.length) acc.ops[acc.ops.length - 1].text += ` ${line}`;
      return acc;
    },
    { admin: false, ops: [] },
  ).ops;

let server: TestServer;
let admin: SignedInUser;
let alice: SignedInUser;
let imageId: string;

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  [imageId] = await seedImages(server, alice.id, ['ISIC_0000150']);
}, 60_000);

afterAll(() => server?.close());

it('the README block holds the ensemble operations', () => {
  expect(start).toBeGreaterThan(0);
  expect(operations.map((o) => /^(?:mutation|query) \{ (\w+)/.exec(o.text)?.[1])).toEqual([
    'createClassificationEnsemble',
    'updateClassificationEnsemble',
    'classificationEnsembles',
    'classifyImage',
    'prediction',
    'deleteClassificationEnsemble',
  ]);
});

it('every example runs as written and answers what the README says', async () => {
  const answers: any[] = [];
  let predictionId = '';
  for (const op of operations) {
    const text = op.text.replace('<image id>', imageId).replace('<id>', predictionId);
    const r = await server.gql<any>(text, {}, op.admin ? admin.token : alice.token);
    expect({ op: op.text, errors: r.errors }).toEqual({ op: op.text, errors: undefined });
    answers.push(r.data);
    if (r.data.classifyImage) predictionId = r.data.classifyImage.resultIds[0];
  }
  const [created, updated, listed, classified, prediction, deleted] = answers;
  expect(created.createClassificationEnsemble).toEqual({
    name: 'gap-heavy',
    isDefault: false,
    members: [
      { model: 'dg-gap-classifier', version: null, weight: 3, normalisedWeight: 0.75 },
      { model: 'dg-mlp-classifier', version: '1.0.0', weight: 1, normalisedWeight: 0.25 },
    ],
  });
  expect(updated.updateClassificationEnsemble.members).toEqual([
    { model: 'dg-gap-classifier', normalisedWeight: 1 / 3 },
    { model: 'dg-mlp-classifier', normalisedWeight: 2 / 3 },
  ]);
  expect(deleted.deleteClassificationEnsemble).toEqual({ name: 'gap-heavy' });
  expect(listed.classificationEnsembles.map((e: any) => [e.name, e.isDefault])).toEqual([
    ['default-classifier', true],
    ['gap-heavy', false],
    ['gap-mlp-average', false],
  ]);
  expect(classified.classifyImage.status).toBe('SUCCEEDED');
  const p = prediction.prediction;
  expect(p.ensemble).toBe('gap-heavy');
  expect(p.memberResults.map((m: any) => [m.model, m.weight])).toEqual([
    ['dg-gap-classifier', 0.75],
    ['dg-mlp-classifier', 0.25],
  ]);
  const [a, b] = p.memberResults.map((m: any) => m.malignantProbability);
  expect(p.malignantProbability).toBeCloseTo(0.75 * a + 0.25 * b, 12);
  expect(p.memberDisagreement.malignantProbabilitySpread).toBeCloseTo(Math.abs(a - b), 12);
}, 60_000);
