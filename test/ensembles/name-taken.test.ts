import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packPackage } from '../../src/models-registry/package/package';
import { makeClassifierPackage } from '../fixtures/models/packages';
import { filesUnder, modelsServer, uploadPackage } from '../models/helpers';
import { EQ, refusal } from './helpers';

/**
 * Models and classification ensembles share one namespace where a client picks a classifier
 * (DEFAULT_CLASSIFIER names either): a package named like an ensemble is refused, and an ensemble named
 * like a model. Each refusal is audited and leaves nothing behind.
 */
const h = modelsServer();
const NAME = 'shared-name';
const gap = { model: 'dg-gap-classifier' };

/** A tiny-classifier package named NAME, packed as a zip. */
let zip: Buffer;
beforeAll(async () => {
  const dir = await makeClassifierPackage(join(h.work, 'pkg'), { name: NAME });
  zip = await readFile((await packPackage(dir, join(h.work, 'p.zip'))).outFile);
});

const audit = async (action: string) =>
  (
    await h.server.gql<any>(
      `query($f: AuditLogFilter) { auditLog(filter: $f, first: 50) { edges { node { action success details } } } }`,
      { f: { action } },
      h.admin.token,
    )
  ).data.auditLog.edges.map((e: any) => e.node);

/** What a refusal must leave as it was: version rows, package files (uploads being checked too), models, ensembles. */
async function state() {
  return {
    rows: (await h.rows()).map((r) => `${r.name}@${r.version}:${r.status}`),
    files: await filesUnder(h.packagesDir),
    models: h.server.services.models.list().map((m) => `${m.name}@${m.activeVersion}`),
    ensembles: (await h.server.gql<any>(EQ.list, {}, h.admin.token)).data.classificationEnsembles.map(
      (e: any) => e.name,
    ),
  };
}

it('a package named like an ensemble is refused (CONFLICT, name.taken, ENSEMBLE_NAME), audited, nothing kept', async () => {
  const created = await h.server.gql<any>(EQ.create, { name: NAME, members: [gap] }, h.admin.token);
  expect(created.errors).toBeUndefined();
  const before = await state();
  const res = await uploadPackage(h.server, zip, 'package.zip', h.admin.token, true);
  expect(res.data).toBeNull();
  expect(res.errors?.[0].extensions).toMatchObject({
    code: 'CONFLICT',
    check: 'name.taken',
    field: 'name',
    reason: 'ENSEMBLE_NAME',
  });
  expect(res.errors?.[0].message).toBe(
    `name.taken: "${NAME}" is a classification ensemble's name; a model needs a name of its own`,
  );
  expect(await state()).toEqual(before);
  expect(h.server.services.models.model(NAME)).toBeNull();
  expect(await audit('MODEL_UPLOADED')).toEqual([
    { action: 'MODEL_UPLOADED', success: false, details: { activate: true, error: 'CONFLICT' } },
  ]);
});

it('the name is free again once the ensemble is gone; then an ensemble of that name is refused (MODEL_NAME)', async () => {
  expect((await h.server.gql<any>(EQ.remove, { name: NAME }, h.admin.token)).errors).toBeUndefined();
  const up = await uploadPackage(h.server, zip, 'package.zip', h.admin.token);
  expect(up.errors).toBeUndefined();
  expect(up.data.uploadModelPackage).toMatchObject({ name: NAME, version: '1.0.0' });

  const before = await state();
  const res = await h.server.gql<any>(EQ.create, { name: NAME, members: [gap] }, h.admin.token);
  expect(refusal(res)).toEqual({ code: 'CONFLICT', field: 'name', reason: 'MODEL_NAME' });
  expect(await state()).toEqual(before);
  expect((await h.server.gql<any>(EQ.one, { name: NAME }, h.admin.token)).data.classificationEnsemble).toBeNull();
  expect(
    (await audit('ENSEMBLE_CREATED')).map((r: any) => [r.success, r.details.name, r.details.error ?? null]),
  ).toEqual([
    [false, NAME, 'CONFLICT'],
    [true, NAME, null],
  ]);
});
