import { AuditLog } from '../../src/entities';
import { packPackage } from '../../src/models-registry/package/package';
import { makeClassifierPackage, tempDir } from '../fixtures/models/packages';
import { uploadPackage } from '../models/helpers';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildWorld, unshare, type World } from './helpers';

/**
 * Issue [9], "Schema a client can cache": every cached object implements Node with a globally
 * unique id, and node(id) finds it again under the rules of its type's own query, null otherwise.
 */
describe('node(id)', () => {
  let w: World;
  let work: string;
  let auditId: string;
  beforeAll(async () => {
    w = await buildWorld();
    work = await tempDir();
    const dir = await makeClassifierPackage(join(work, 'pkg'), { version: '1.0.0', model: 'v1' });
    const zip = (await packPackage(dir, join(work, 'tiny-classifier-1.0.0.zip'))).outFile;
    const up = await uploadPackage(w.server, await readFile(zip), 'tiny-classifier-1.0.0.zip', w.admin.token);
    expect(up.errors).toBeUndefined();
    const row = await w.server.services.db.orm.em.fork().findOneOrFail(AuditLog, { userId: w.bob.id });
    auditId = row.id;
  });
  afterAll(async () => {
    await w?.server.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const NODE = `query($id: ID!) { node(id: $id) { __typename id
    ... on Patient { displayName } ... on Lesion { bodySite } ... on Image { sha256 }
    ... on Prediction { label } ... on Segmentation { severity } ... on InferenceJob { kind }
    ... on User { email } ... on AuditLogEntry { action } ... on Model { name }
    ... on ModelVersion { version uploadedBy uploader { id } } } }`;
  const node = async (id: string, token: string) => {
    const res = await w.server.gql<any>(NODE, { id }, token);
    expect(res.errors).toBeUndefined();
    return res.data.node;
  };

  it('finds each type of entity for a caller who may read it, as its own query would', async () => {
    const cases: [string, string, object][] = [
      ['Patient', w.patientId, { displayName: 'Test Patient' }],
      ['Lesion', w.lesionId, { bodySite: 'back' }],
      ['Image', w.imageId, { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }],
      ['Prediction', w.predictionIds[1], { label: 'melanoma' }],
      ['Segmentation', w.segmentationId, { severity: 'MODERATE' }],
      ['InferenceJob', w.classifyJobId, { kind: 'CLASSIFY' }],
      ['User', w.bob.id, { email: w.bob.email }],
    ];
    for (const [type, id, fields] of cases) {
      expect(await node(id, w.bob.token)).toEqual({ __typename: type, id, ...fields });
      // The same answer for an id in upper case (uuids are case-insensitive).
      expect((await node(id.toUpperCase(), w.bob.token))?.__typename).toBe(type);
    }
  });

  it('answers null for objects of patients the caller does not see, and for other users', async () => {
    for (const id of [w.patientId, w.lesionId, w.imageId, w.predictionIds[0], w.segmentationId, w.classifyJobId]) {
      expect(await node(id, w.carol.token)).toBeNull();
      expect(await node(id, w.researcher.token)).toBeNull();
    }
    expect(await node(w.alice.id, w.bob.token)).toBeNull();
    expect(await node(w.admin.id, w.researcher.token)).toBeNull();
    expect(await node(auditId, w.bob.token)).toBeNull();
  });

  it('lets admins read every type, users and audit entries included', async () => {
    for (const id of [w.patientId, w.imageId, w.segmentJobId, w.alice.id])
      expect(await node(id, w.admin.token)).not.toBeNull();
    expect(await node(auditId, w.admin.token)).toEqual({
      __typename: 'AuditLogEntry',
      id: auditId,
      action: expect.any(String),
    });
  });

  it('gives models and versions stable ids any signed-in user can look up', async () => {
    const res = await w.server.gql<any>(`query { models { id name versions { id name version } } }`, {}, w.bob.token);
    expect(res.errors).toBeUndefined();
    const tiny = res.data.models.find((m: any) => m.name === 'tiny-classifier');
    expect(tiny.id).toBe('model:tiny-classifier');
    expect(tiny.versions[0].id).toBe('model:tiny-classifier@1.0.0');
    const ids = res.data.models.flatMap((m: any) => [m.id, ...m.versions.map((v: any) => v.id)]);
    expect(new Set(ids).size).toBe(ids.length);

    expect(await node('model:tiny-classifier', w.bob.token)).toEqual({
      __typename: 'Model',
      id: 'model:tiny-classifier',
      name: 'tiny-classifier',
    });
    // The uploader is shown to admins (and to that admin), never to a clinician; the id stays.
    const version = await node('model:tiny-classifier@1.0.0', w.bob.token);
    expect(version).toMatchObject({
      __typename: 'ModelVersion',
      version: '1.0.0',
      uploadedBy: w.admin.id,
      uploader: null,
    });
    expect((await node('model:tiny-classifier@1.0.0', w.admin.token)).uploader).toEqual({ id: w.admin.id });
    for (const id of ['model:no-such-model', 'model:tiny-classifier@9.9.9', 'model:', 'model:@1.0.0'])
      expect(await node(id, w.bob.token)).toBeNull();
  });

  it('answers null for ids that name nothing, and needs a signed-in caller', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id', '', 'x'.repeat(500)])
      expect(await node(id, w.bob.token)).toBeNull();
    const anonymous = await w.server.gql<any>(NODE, { id: w.patientId });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers several node fields of one request, each with the fields of its type', async () => {
    const q = `query($a: ID!, $b: ID!, $c: ID!, $d: ID!) { a: node(id: $a) { id } b: node(id: $b) { id }
      c: node(id: $c) { id } d: node(id: $d) { __typename ... on Image { patient { id } latestPrediction { id } } } }`;
    const res = await w.server.gql<any>(
      q,
      { a: w.patientId, b: w.predictionIds[0], c: w.segmentationId, d: w.imageId },
      w.alice.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.d).toEqual({
      __typename: 'Image',
      patient: { id: w.patientId },
      latestPrediction: { id: w.predictionIds[1] },
    });
  });

  it('follows a share taken back', async () => {
    expect(await node(w.imageId, w.bob.token)).not.toBeNull();
    await unshare(w, w.bob);
    for (const id of [w.patientId, w.lesionId, w.imageId, w.predictionIds[1], w.segmentationId, w.classifyJobId])
      expect(await node(id, w.bob.token)).toBeNull();
    expect(await node(w.bob.id, w.bob.token)).toMatchObject({ __typename: 'User' });
  });
});
