import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { seedImages } from '../inference/helpers';
import { createPatient, fixture } from '../patients/helpers';
import { multipart } from '../patients/multipart';
import { packPackage } from '../../src/models-registry/package/package';
import { inTempDir, makeClassifierPackage } from '../fixtures/models/packages';
import { uploadFile } from '../models/helpers';
import { EQ, refusal } from './helpers';

/**
 * Named classification ensembles over HTTP, on the shipped ONNX classifiers and real ISIC images:
 * the seeded default-classifier (dg-gap-classifier alone) is what a classification without models runs,
 * gap-mlp-average the shipped pair; each member's own
 * output is stored and shown, with the members' disagreement; admins create, change and delete
 * ensembles (audited), and garbage is refused with stable codes.
 */
let server: TestServer;
let admin: SignedInUser;
let alice: SignedInUser;
let imageIds: string[];

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
  imageIds = await seedImages(server, alice.id, ['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000151']);
}, 60_000);

afterAll(() => server?.close());

/** Classifies (waiting) and reads the prediction back with its members' outputs. */
async function classify(vars: Record<string, unknown>, token = alice.token): Promise<any> {
  const r = await server.gql<any>(EQ.classify, { wait: true, ...vars }, token);
  expect(r.errors).toBeUndefined();
  expect(r.data.classifyImage.status).toBe('SUCCEEDED');
  return (await server.gql<any>(EQ.prediction, { id: r.data.classifyImage.resultIds[0] }, token)).data.prediction;
}

/** A shipped classifier's decision threshold, from its manifest (chosen by the cross-validation). */
const thresholdOf = (model: string): number =>
  JSON.parse(readFileSync(path.join(__dirname, '../../plugins', model, 'manifest.json'), 'utf8')).postprocess
    .decisionThreshold;

const pOf = (p: any) => p.memberResults.map((m: any) => m.malignantProbability);

describe('the shipped ensembles', () => {
  it('default-classifier is dg-gap-classifier alone and the default; gap-mlp-average is the pair at equal weights', async () => {
    const r = await server.gql<any>(EQ.one, { name: 'default-classifier' }, alice.token);
    expect(r.data.classificationEnsemble).toMatchObject({
      name: 'default-classifier',
      isDefault: true,
      updatedBy: null,
      members: [{ model: 'dg-gap-classifier', version: null, weight: 1, normalisedWeight: 1 }],
    });
    const pair = await server.gql<any>(EQ.one, { name: 'gap-mlp-average' }, alice.token);
    expect(pair.data.classificationEnsemble).toMatchObject({
      name: 'gap-mlp-average',
      isDefault: false,
      updatedBy: null,
      members: [
        { model: 'dg-gap-classifier', version: null, weight: 1, normalisedWeight: 0.5 },
        { model: 'dg-mlp-classifier', version: null, weight: 1, normalisedWeight: 0.5 },
      ],
    });
    const all = (await server.gql<any>(EQ.list, {}, alice.token)).data.classificationEnsembles;
    expect(all.map((e: any) => e.name)).toEqual(['default-classifier', 'gap-mlp-average']);
  });

  it('a classification without models runs default-classifier: one member, nothing to disagree with', async () => {
    const p = await classify({ imageId: imageIds[0] });
    expect(p.ensemble).toBe('default-classifier');
    expect(p.members.map((m: any) => [m.model, m.version, m.weight])).toEqual([['dg-gap-classifier', '1.0.0', 1]]);
    expect(p.memberResults).toHaveLength(1);
    expect(p.malignantProbability).toBe(p.memberResults[0].malignantProbability);
    expect(p.memberDisagreement).toBeNull();
  });

  it('gap-mlp-average: each member’s own output, their average and their disagreement', async () => {
    const p = await classify({ imageId: imageIds[0], ensemble: 'gap-mlp-average' });
    expect(p.ensemble).toBe('gap-mlp-average');
    expect(p.members.map((m: any) => [m.model, m.version, m.weight])).toEqual([
      ['dg-gap-classifier', '1.0.0', 0.5],
      ['dg-mlp-classifier', '1.0.0', 0.5],
    ]);
    expect(p.memberResults).toHaveLength(2);
    // The ensemble's probabilities are the members' averaged by weight.
    p.probabilities.forEach((x: any, i: number) =>
      expect(x.probability).toBeCloseTo(
        0.5 * p.memberResults[0].probabilities[i].probability + 0.5 * p.memberResults[1].probabilities[i].probability,
        12,
      ),
    );
    const [a, b] = pOf(p);
    expect(p.malignantProbability).toBeCloseTo((a + b) / 2, 12);
    // Two members at equal weight: the spread is |a - b| and the weighted standard deviation half of it.
    expect(p.memberDisagreement.malignantProbabilitySpread).toBeCloseTo(Math.abs(a - b), 12);
    expect(p.memberDisagreement.malignantProbabilityStdDev).toBeCloseTo(Math.abs(a - b) / 2, 12);
    expect(p.memberDisagreement.labelsDisagree).toBe(p.memberResults[0].label !== p.memberResults[1].label);
    // It decides at its members' decision thresholds averaged by weight (0.29 and 0.32 as shipped).
    const t = (thresholdOf('dg-gap-classifier') + thresholdOf('dg-mlp-classifier')) / 2;
    expect(t).toBeCloseTo(0.305, 12);
    const { data } = await server.gql<any>(
      `query($id: ID!) { prediction(id: $id) { malignant malignantProbability decisionMargin } }`,
      { id: p.id },
      alice.token,
    );
    expect(data.prediction.malignant).toBe(data.prediction.malignantProbability >= t);
    expect(data.prediction.decisionMargin).toBeCloseTo(Math.abs(data.prediction.malignantProbability - t), 12);
  });

  it('each member’s own output is exactly what that model says on its own', async () => {
    const ensemble = await classify({ imageId: imageIds[1], ensemble: 'gap-mlp-average' });
    for (const [i, model] of ['dg-gap-classifier', 'dg-mlp-classifier'].entries()) {
      const alone = await classify({ imageId: imageIds[1], models: [{ model }] });
      expect(alone.ensemble).toBeNull();
      expect(alone.memberDisagreement).toBeNull(); // one member: nothing to disagree with
      expect(alone.memberResults).toEqual([
        {
          model,
          version: '1.0.0',
          weight: 1,
          label: alone.label,
          confidence: alone.confidence,
          malignantProbability: alone.malignantProbability,
          probabilities: alone.probabilities,
        },
      ]);
      expect(ensemble.memberResults[i]).toEqual({ ...alone.memberResults[0], weight: 0.5 });
    }
  });

  it('predictions stored before members kept their outputs read with empty memberResults and null disagreement', async () => {
    const p = await classify({ imageId: imageIds[2] });
    // As a row written before [14]: members without output, no ensemble, no disagreement columns.
    await server.services.db.orm.em
      .fork()
      .getConnection()
      .execute(
        `update predictions set members = (select jsonb_agg(m - 'output') from jsonb_array_elements(members) m),
           ensemble = null, member_malignant_spread = null, member_malignant_std_dev = null, members_disagree = null
         where id = ?`,
        [p.id],
      );
    const old = (await server.gql<any>(EQ.prediction, { id: p.id }, alice.token)).data.prediction;
    expect(old).toMatchObject({ ensemble: null, memberResults: [], memberDisagreement: null });
    expect(old.members).toEqual(p.members);
  });
});

describe('admin-defined ensembles', () => {
  it('created, listed, used by name (weights normalised), changed, and deleted; every change audited', async () => {
    const created = await server.gql<any>(
      EQ.create,
      {
        name: 'gap-heavy',
        members: [
          { model: 'dg-gap-classifier', weight: 3 },
          { model: 'dg-mlp-classifier', version: '1.0.0', weight: 1 },
        ],
        description: 'three parts GAP',
      },
      admin.token,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data.createClassificationEnsemble).toMatchObject({
      name: 'gap-heavy',
      description: 'three parts GAP',
      isDefault: false,
      updatedBy: admin.id,
      members: [
        { model: 'dg-gap-classifier', version: null, weight: 3, normalisedWeight: 0.75 },
        { model: 'dg-mlp-classifier', version: '1.0.0', weight: 1, normalisedWeight: 0.25 },
      ],
    });
    const p = await classify({ imageId: imageIds[0], ensemble: 'gap-heavy' });
    expect(p.ensemble).toBe('gap-heavy');
    expect(p.members.map((m: any) => m.weight)).toEqual([0.75, 0.25]);
    const [a, b] = pOf(p);
    expect(p.malignantProbability).toBeCloseTo(0.75 * a + 0.25 * b, 12);
    const mean = 0.75 * a + 0.25 * b;
    expect(p.memberDisagreement.malignantProbabilityStdDev).toBeCloseTo(
      Math.sqrt(0.75 * (a - mean) ** 2 + 0.25 * (b - mean) ** 2),
      12,
    );

    const updated = await server.gql<any>(
      EQ.update,
      { name: 'gap-heavy', members: [{ model: 'dg-mlp-classifier', weight: 2 }] },
      admin.token,
    );
    expect(updated.data.updateClassificationEnsemble.members).toEqual([
      { model: 'dg-mlp-classifier', version: null, weight: 2, normalisedWeight: 1 },
    ]);
    const q = await classify({ imageId: imageIds[0], ensemble: 'gap-heavy' });
    expect(q.members.map((m: any) => [m.model, m.weight])).toEqual([['dg-mlp-classifier', 1]]);
    expect(q.memberDisagreement).toBeNull();

    const deleted = await server.gql<any>(EQ.remove, { name: 'gap-heavy' }, admin.token);
    expect(deleted.data.deleteClassificationEnsemble.name).toBe('gap-heavy');
    expect((await server.gql<any>(EQ.one, { name: 'gap-heavy' }, alice.token)).data.classificationEnsemble).toBeNull();
    const gone = await server.gql<any>(EQ.classify, { imageId: imageIds[0], ensemble: 'gap-heavy' }, alice.token);
    expect(refusal(gone)).toEqual({ code: 'MODEL_UNAVAILABLE', field: 'ensemble', reason: 'UNKNOWN_ENSEMBLE' });

    const audit = async (action: string) =>
      (
        await server.gql<any>(
          `query($f: AuditLogFilter) { auditLog(filter: $f, first: 50) { edges { node { action success actorId details } } } }`,
          { f: { action } },
          admin.token,
        )
      ).data.auditLog.edges.map((e: any) => e.node);
    expect(await audit('ENSEMBLE_CREATED')).toContainEqual({
      action: 'ENSEMBLE_CREATED',
      success: true,
      actorId: admin.id,
      details: expect.objectContaining({
        name: 'gap-heavy',
        members: ['dg-gap-classifier@active*3', 'dg-mlp-classifier@1.0.0*1'],
      }),
    });
    expect(await audit('ENSEMBLE_UPDATED')).toContainEqual(
      expect.objectContaining({
        success: true,
        details: expect.objectContaining({
          before: ['dg-gap-classifier@active*3', 'dg-mlp-classifier@1.0.0*1'],
          after: ['dg-mlp-classifier@active*2'],
        }),
      }),
    );
    expect(await audit('ENSEMBLE_DELETED')).toContainEqual(
      expect.objectContaining({ success: true, details: expect.objectContaining({ name: 'gap-heavy' }) }),
    );
  });

  it('garbage is refused with stable codes, and the refusals are audited', async () => {
    const gap = { model: 'dg-gap-classifier' };
    const mlp = { model: 'dg-mlp-classifier' };
    const cases: Array<[Record<string, unknown>, { code: string; field?: string; reason?: string }]> = [
      [
        { name: 'x', members: [gap] },
        { code: 'BAD_USER_INPUT', field: 'name', reason: 'INVALID_NAME' },
      ],
      [
        { name: 'Bad_Name', members: [gap] },
        { code: 'BAD_USER_INPUT', field: 'name', reason: 'INVALID_NAME' },
      ],
      [
        { name: 'dg-gap-classifier', members: [gap] },
        { code: 'CONFLICT', field: 'name', reason: 'MODEL_NAME' },
      ],
      [
        { name: 'default-classifier', members: [gap] },
        { code: 'CONFLICT', field: 'name', reason: 'ENSEMBLE_EXISTS' },
      ],
      [
        { name: 'empty', members: [] },
        { code: 'BAD_USER_INPUT', field: 'members', reason: 'NO_MEMBERS' },
      ],
      [
        { name: 'nine', members: Array.from({ length: 9 }, (_, i) => ({ ...gap, weight: i + 1 })) },
        { code: 'BAD_USER_INPUT', field: 'members', reason: 'TOO_MANY_MEMBERS' },
      ],
      [
        { name: 'typo', members: [{ model: 'dg-gap-clasifier' }] },
        { code: 'BAD_USER_INPUT', field: 'members[0].model', reason: 'UNKNOWN_MODEL' },
      ],
      [
        { name: 'no-version', members: [{ ...gap, version: '9.9.9' }] },
        { code: 'BAD_USER_INPUT', field: 'members[0].version', reason: 'UNKNOWN_VERSION' },
      ],
      [
        { name: 'segmenter', members: [gap, { model: 'dg-seg-stats' }] },
        { code: 'BAD_USER_INPUT', field: 'members[1].model', reason: 'NOT_CLASSIFICATION' },
      ],
      [
        { name: 'zero', members: [gap, { ...mlp, weight: 0 }] },
        { code: 'BAD_USER_INPUT', field: 'members[1].weight', reason: 'INVALID_WEIGHT' },
      ],
      [
        { name: 'negative', members: [{ ...gap, weight: -1 }] },
        { code: 'BAD_USER_INPUT', field: 'members[0].weight', reason: 'INVALID_WEIGHT' },
      ],
      [
        { name: 'twice', members: [gap, mlp, { ...gap, weight: 2 }] },
        { code: 'BAD_USER_INPUT', field: 'members[2]', reason: 'DUPLICATE_MEMBER' },
      ],
      [
        { name: 'long-words', members: [gap], description: 'x'.repeat(501) },
        { code: 'BAD_USER_INPUT', field: 'description', reason: 'TOO_LONG' },
      ],
    ];
    for (const [vars, expected] of cases) {
      const r = await server.gql<any>(EQ.create, vars, admin.token);
      expect({ vars, refusal: refusal(r) }).toEqual({ vars, refusal: expected });
      expect(r.data).toBeNull();
    }
    // Not a number at all (JSON's 1e999 is Infinity; a NaN cannot be sent): refused by GraphQL itself.
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: `{"query": ${JSON.stringify(EQ.create)}, "variables": {"name": "inf", "members": [{"model": "dg-gap-classifier", "weight": 1e999}]}}`,
    });
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const update = await server.gql<any>(EQ.update, { name: 'nothing-here', members: [gap] }, admin.token);
    expect(refusal(update)).toEqual({ code: 'NOT_FOUND', field: 'name', reason: undefined });
    const update2 = await server.gql<any>(
      EQ.update,
      { name: 'default-classifier', members: [gap, { model: 'dg-seg-stats' }] },
      admin.token,
    );
    expect(refusal(update2)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOT_CLASSIFICATION' });
    expect(refusal(await server.gql<any>(EQ.remove, { name: 'nothing-here' }, admin.token))).toMatchObject({
      code: 'NOT_FOUND',
    });
    // The default classifier cannot be deleted (DEFAULT_CLASSIFIER is unset: it is default-classifier).
    expect(refusal(await server.gql<any>(EQ.remove, { name: 'default-classifier' }, admin.token))).toEqual({
      code: 'CONFLICT',
      field: 'name',
      reason: 'DEFAULT_CLASSIFIER',
    });
    // Clinicians may read but not change.
    for (const [q, vars] of [
      [EQ.create, { name: 'mine', members: [gap] }],
      [EQ.update, { name: 'default-classifier', members: [gap] }],
      [EQ.remove, { name: 'default-classifier' }],
    ] as const) {
      expect(refusal(await server.gql<any>(q, vars, alice.token)).code).toBe('FORBIDDEN');
    }
    expect(refusal(await server.gql<any>(EQ.list, {})).code).toBe('UNAUTHENTICATED');
    const failures = (
      await server.gql<any>(
        `query($f: AuditLogFilter) { auditLog(filter: $f, first: 100) { edges { node { success details } } } }`,
        { f: { action: 'ENSEMBLE_CREATED' } },
        admin.token,
      )
    ).data.auditLog.edges.filter((e: any) => !e.node.success);
    expect(failures.length).toBe(cases.length);
    expect(failures.map((e: any) => e.node.details.error)).toEqual(
      expect.arrayContaining(['BAD_USER_INPUT', 'CONFLICT']),
    );
    // Still exactly as shipped.
    const d = (await server.gql<any>(EQ.one, { name: 'default-classifier' }, alice.token)).data.classificationEnsemble;
    expect(d.members.map((m: any) => m.model)).toEqual(['dg-gap-classifier']);
  });

  it('classify: models and ensemble together, or an unknown ensemble, are refused before a job is made', async () => {
    const both = await server.gql<any>(
      EQ.classify,
      { imageId: imageIds[0], models: [{ model: 'dg-gap-classifier' }], ensemble: 'default-classifier' },
      alice.token,
    );
    expect(refusal(both)).toEqual({ code: 'BAD_USER_INPUT', field: 'ensemble', reason: 'MODELS_AND_ENSEMBLE' });
    for (const name of ['no-such-ensemble', '', 'x'.repeat(5000)]) {
      const r = await server.gql<any>(EQ.classify, { imageId: imageIds[0], ensemble: name }, alice.token);
      expect(refusal(r)).toEqual({ code: 'MODEL_UNAVAILABLE', field: 'ensemble', reason: 'UNKNOWN_ENSEMBLE' });
    }
  });

  it('uploadImages(classify: { ensemble }) classifies the upload with the named ensemble; with models too it is refused', async () => {
    const upload = `mutation($p: ID!, $f: [Upload!]!, $c: ClassifyInput) { uploadImages(patientId: $p, files: $f, classify: $c, wait: true) { id latestPrediction { id } } }`;
    const patientId = await createPatient(server, alice.token);
    const file = { name: 'lesion.jpg', data: fixture('ISIC_0000151.jpg'), type: 'image/jpeg' };
    const uploadWith = (c: Record<string, unknown>) =>
      multipart(server, alice.token, upload, { p: patientId, c }, [file], 'f');
    const both = await uploadWith({ ensemble: 'default-classifier', models: [{ model: 'dg-gap-classifier' }] });
    expect(refusal(both)).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'classify.ensemble',
      reason: 'MODELS_AND_ENSEMBLE',
    });
    const unknown = await uploadWith({ ensemble: 'nope-nope' });
    expect(refusal(unknown)).toEqual({
      code: 'MODEL_UNAVAILABLE',
      field: 'classify.ensemble',
      reason: 'UNKNOWN_ENSEMBLE',
    });
    const r = await uploadWith({ ensemble: 'gap-mlp-average' });
    expect(r.errors).toBeUndefined();
    const id = r.data.uploadImages[0].latestPrediction.id;
    const p = (await server.gql<any>(EQ.prediction, { id }, alice.token)).data.prediction;
    expect(p.ensemble).toBe('gap-mlp-average');
    expect(p.memberResults.map((m: any) => m.model)).toEqual(['dg-gap-classifier', 'dg-mlp-classifier']);
  });

  it('a classifier whose labels differ from member 0’s is refused (LABELS_DIFFER)', async () => {
    await inTempDir(async (work) => {
      const dir = await makeClassifierPackage(work, {
        name: 'other-labels',
        edit: (m) => Object.assign(m, { labels: ['nevus', 'melanoma'], malignantLabels: ['melanoma'] }),
      });
      const uploaded = await uploadFile(server, (await packPackage(dir, `${work}/p.zip`)).outFile, admin.token, true);
      expect(uploaded.errors).toBeUndefined();
    });
    const r = await server.gql<any>(
      EQ.create,
      { name: 'mixed-labels', members: [{ model: 'dg-gap-classifier' }, { model: 'other-labels' }] },
      admin.token,
    );
    expect(refusal(r)).toEqual({ code: 'BAD_USER_INPUT', field: 'members[1].model', reason: 'LABELS_DIFFER' });
    expect(r.errors![0].message).toBe('other-labels has labels nevus, melanoma; member 0 has benign, malignant');
  });

  it('a member unloaded while an ensemble names it: classify says which ensemble cannot run and why', async () => {
    const created = await server.gql<any>(
      EQ.create,
      {
        name: 'pinned-pair',
        members: [{ model: 'dg-gap-classifier' }, { model: 'dg-mlp-classifier', version: '1.0.0' }],
      },
      admin.token,
    );
    expect(created.errors).toBeUndefined();
    const unload = await server.gql<any>(
      `mutation { unloadModelVersion(name: "dg-mlp-classifier", version: "1.0.0") { status } }`,
      {},
      admin.token,
    );
    expect(unload.errors).toBeUndefined();
    const r = await server.gql<any>(EQ.classify, { imageId: imageIds[0], ensemble: 'pinned-pair' }, alice.token);
    expect(refusal(r)).toEqual({ code: 'MODEL_UNAVAILABLE', field: 'ensemble', reason: 'ENSEMBLE_MEMBER_UNAVAILABLE' });
    expect(r.errors![0].message).toMatch(/^ensemble "pinned-pair" cannot run: .*dg-mlp-classifier/);
    expect(r.errors![0].extensions).toMatchObject({ ensemble: 'pinned-pair', model: 'dg-mlp-classifier' });
    // The shipped pair names the unloaded model too; the default (dg-gap-classifier alone) still runs.
    const pair = await server.gql<any>(EQ.classify, { imageId: imageIds[0], ensemble: 'gap-mlp-average' }, alice.token);
    expect(refusal(pair)).toEqual({
      code: 'MODEL_UNAVAILABLE',
      field: 'ensemble',
      reason: 'ENSEMBLE_MEMBER_UNAVAILABLE',
    });
    expect(pair.errors![0].message).toMatch(/^ensemble "gap-mlp-average" cannot run: .*dg-mlp-classifier/);
    const d = await classify({ imageId: imageIds[0] });
    expect(d.members.map((m: any) => m.model)).toEqual(['dg-gap-classifier']);
  });
});
