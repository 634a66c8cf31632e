import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { softmax } from '../../src/inference/softmax';
import { IMAGES, INPUT, referenceProbabilities, tensorOf, type ClassifierVersion } from '../fixtures/models/packages';
import { dev, filesUnder, modelsServer, Q, subscribeEvents, uploadFile, uploadPackage } from './helpers';

/**
 * The model registry through GraphQL on a real server: the shipped plugins, uploads of real ONNX
 * packages (.zip and .tar.gz), admin changes and their audit rows, device fallback and the event
 * subscription. Refused uploads and callers: models-graphql-refusals.test.ts.
 */
const SHIPPED = ['dg-gap-classifier', 'dg-mlp-classifier', 'dg-seg-skin-distance', 'dg-seg-stats'];

const h = modelsServer();
const { rows, packed } = h;

/** Runs the model's active version (as inference will) on a real image; probabilities after softmax. */
async function classify(name: string, image = IMAGES[2]): Promise<{ version: string; probabilities: number[] }> {
  const tensor = await tensorOf(image);
  return h.server.services.models.withModel(name, undefined, async (lease) => {
    const out = await lease.run({ [INPUT.name]: new ort.Tensor('float32', tensor, [1, 3, INPUT.height, INPUT.width]) });
    return { version: lease.version, probabilities: softmax(Array.from(out.logits.data as Float32Array)) };
  });
}

async function expectAnswerFrom(model: ClassifierVersion, name = 'tiny-classifier') {
  const got = await classify(name);
  const want = referenceProbabilities(await tensorOf(IMAGES[2]), model);
  got.probabilities.forEach((p, i) => expect(p).toBeCloseTo(want[i], 4));
  return got.version;
}

describe('reading models', () => {
  it('lists the shipped plugins, each active on cpu with its sha256, to any signed-in user', async () => {
    const res = await h.server.gql<any>(Q.models, {}, h.clinician.token);
    expect(res.errors).toBeUndefined();
    const byName = Object.fromEntries(res.data.models.map((m: any) => [m.name, m]));
    for (const name of SHIPPED) {
      const m = byName[name];
      expect(m).toBeDefined();
      expect(m.activeVersion).toBe('1.0.0');
      const manifest = JSON.parse(await readFile(join(__dirname, '../../plugins', name, 'manifest.json'), 'utf8'));
      expect(m.versions[0]).toMatchObject({
        version: '1.0.0',
        status: 'ACTIVE',
        active: true,
        task: manifest.task.toUpperCase(),
        sha256: manifest.files[manifest.modelFile],
        device: { requested: dev('CPU'), actual: dev('CPU'), fallbackReason: null },
        uploadedBy: null,
      });
      expect(m.versions[0].loadMs).toBeGreaterThan(0);
    }
    expect(byName['dg-gap-classifier'].versions[0].labels.length).toBeGreaterThan(1);
    const one = await h.server.gql<any>(Q.model, { name: 'dg-seg-stats' }, h.clinician.token);
    expect(one.data.model).toMatchObject({ name: 'dg-seg-stats', task: 'SEGMENTATION', activeVersion: '1.0.0' });
    expect((await h.server.gql<any>(Q.model, { name: 'no-such-model' }, h.clinician.token)).data.model).toBeNull();
  });

  it('refuses anonymous callers with UNAUTHENTICATED', async () => {
    const res = await h.server.gql(Q.models);
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('the shipped versions are rows in PostgreSQL, the active ones marked', async () => {
    const shipped = (await rows()).filter((r) => SHIPPED.includes(r.name));
    expect(shipped.map((r) => [r.name, r.version, r.status, r.active])).toEqual(
      SHIPPED.map((n) => [n, '1.0.0', 'ACTIVE', true]),
    );
  });
});

describe('uploading packages', () => {
  it('installs a .zip without activating it, then a .tar.gz with activate: true; the active one answers', async () => {
    const zip = await uploadFile(h.server, await packed('1.0.0', 'v1', 'zip'), h.admin.token);
    expect(zip.errors).toBeUndefined();
    expect(zip.data.uploadModelPackage).toMatchObject({
      name: 'tiny-classifier',
      version: '1.0.0',
      status: 'READY',
      active: false,
      uploadedBy: h.admin.id,
      device: { actual: dev('CPU') },
    });
    expect(h.server.services.models.activeVersion('tiny-classifier')).toBeNull();

    const tgz = await uploadFile(h.server, await packed('2.0.0', 'v2', 'tar.gz'), h.admin.token, true);
    expect(tgz.errors).toBeUndefined();
    expect(tgz.data.uploadModelPackage).toMatchObject({ version: '2.0.0', status: 'ACTIVE', active: true });
    expect(await expectAnswerFrom('v2')).toBe('2.0.0');

    const model = (await h.server.gql<any>(Q.model, { name: 'tiny-classifier' }, h.admin.token)).data.model;
    expect(model.activeVersion).toBe('2.0.0');
    expect(model.versions.map((v: any) => [v.version, v.status])).toEqual([
      ['2.0.0', 'ACTIVE'],
      ['1.0.0', 'READY'],
    ]);
    expect(model.versions[0].stats.requests).toBe(1);
    expect(model.versions[0].stats.p50Ms).toBeGreaterThan(0);

    // Kept in storage under DATA_DIR/models/<name>/<version>, recorded with the uploader; no upload left over.
    const files = await filesUnder(h.packagesDir);
    expect(files).toEqual(
      expect.arrayContaining(['tiny-classifier/1.0.0/model.onnx', 'tiny-classifier/2.0.0/manifest.json']),
    );
    expect(files.filter((f) => f.startsWith('.incoming'))).toEqual([]);
    const stored = (await rows()).filter((r) => r.name === 'tiny-classifier');
    expect(stored.map((r) => [r.version, r.status, r.active, r.uploadedBy])).toEqual([
      ['1.0.0', 'READY', false, h.admin.id],
      ['2.0.0', 'ACTIVE', true, h.admin.id],
    ]);
  });

  it('activate, rollback and unload switch the answering version', async () => {
    const act = await h.server.gql<any>(Q.activate, { name: 'tiny-classifier', version: '1.0.0' }, h.admin.token);
    expect(act.data.activateModelVersion).toMatchObject({ version: '1.0.0', status: 'ACTIVE' });
    expect(await expectAnswerFrom('v1')).toBe('1.0.0');
    const back = await h.server.gql<any>(Q.rollback, { name: 'tiny-classifier' }, h.admin.token);
    expect(back.data.rollbackModelVersion).toMatchObject({ version: '2.0.0', status: 'ACTIVE' });
    expect(await expectAnswerFrom('v2')).toBe('2.0.0');

    const unloaded = await h.server.gql<any>(Q.unload, { name: 'tiny-classifier', version: '1.0.0' }, h.admin.token);
    expect(unloaded.data.unloadModelVersion).toMatchObject({ version: '1.0.0', status: 'UNLOADED', active: false });
    const regenerated = await h.server.gql<any>(Q.regenerate, {}, h.admin.token);
    expect(regenerated.errors).toBeUndefined();
    expect(regenerated.data.regenerateModelCache.map((v: any) => `${v.name}@${v.version}`)).toEqual(
      expect.arrayContaining(['tiny-classifier@2.0.0', ...SHIPPED.map((n) => `${n}@1.0.0`)]),
    );
    // An unloaded version comes back on activation (reloaded from storage, checked again).
    expect(
      (await h.server.gql<any>(Q.activate, { name: 'tiny-classifier', version: '1.0.0' }, h.admin.token)).data
        .activateModelVersion.status,
    ).toBe('ACTIVE');
    expect(await expectAnswerFrom('v1')).toBe('1.0.0');
  });

  it('unknown models and versions are NOT_FOUND; rollback without history is CONFLICT', async () => {
    expect(
      (await h.server.gql(Q.activate, { name: 'tiny-classifier', version: '9.9.9' }, h.admin.token)).errors?.[0]
        .extensions,
    ).toMatchObject({ code: 'NOT_FOUND', field: 'version' });
    expect((await h.server.gql(Q.rollback, { name: 'dg-seg-stats' }, h.admin.token)).errors?.[0].extensions?.code).toBe(
      'CONFLICT',
    );
    expect(
      (await h.server.gql(Q.setDevice, { name: 'tiny-classifier', device: dev('CPU', 1) }, h.admin.token)).errors?.[0]
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'device.index' });
    // A device kind the enum does not have never reaches the resolver: a validation error, no audit row.
    const tpu = await h.server.gql(Q.setDevice, { name: 'tiny-classifier', device: { kind: 'TPU' } }, h.admin.token);
    expect(tpu.status).toBe(400);
    expect(tpu.errors?.[0].message).toMatch(/DeviceKind/);
  });

  it('every admin change to the registry is in the audit log: who, from where, what, and how it ended', async () => {
    const audit = async (action: string) =>
      (
        await h.server.gql<any>(
          `query($f: AuditLogFilter) { auditLog(filter: $f, first: 50) { edges { node { action success actorId ip details } } } }`,
          { f: { action } },
          h.admin.token,
        )
      ).data.auditLog.edges.map((e: any) => e.node);
    const uploads = await audit('MODEL_UPLOADED');
    expect(uploads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          success: true,
          actorId: h.admin.id,
          details: expect.objectContaining({ name: 'tiny-classifier', version: '2.0.0', activate: true }),
        }),
      ]),
    );
    const activations = await audit('MODEL_ACTIVATED');
    expect(activations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          success: true,
          actorId: h.admin.id,
          details: expect.objectContaining({
            name: 'tiny-classifier',
            version: '1.0.0',
            status: 'ACTIVE',
            device: 'cpu',
          }),
        }),
        expect.objectContaining({
          success: false,
          details: { name: 'tiny-classifier', version: '9.9.9', error: 'NOT_FOUND' },
        }),
        // What the change replaced, and what it made.
        expect.objectContaining({
          details: expect.objectContaining({
            before: { active: '2.0.0', status: 'READY' },
            after: { active: '1.0.0', status: 'ACTIVE' },
          }),
        }),
        expect.objectContaining({
          details: expect.objectContaining({
            before: { active: '2.0.0', status: 'UNLOADED' },
            after: { active: '1.0.0', status: 'ACTIVE' },
          }),
        }),
      ]),
    );
    expect(activations.every((a: any) => a.ip)).toBe(true);
    expect(await audit('MODEL_ROLLED_BACK')).toEqual(
      [
        expect.objectContaining({
          success: true,
          details: expect.objectContaining({
            name: 'tiny-classifier',
            version: '2.0.0',
            before: { active: '1.0.0' },
            after: { active: '2.0.0' },
          }),
        }),
        expect.objectContaining({ success: false, details: { name: 'dg-seg-stats', error: 'CONFLICT' } }),
      ].reverse(),
    );
    expect(await audit('MODEL_UNLOADED')).toEqual([
      expect.objectContaining({
        success: true,
        details: expect.objectContaining({
          name: 'tiny-classifier',
          version: '1.0.0',
          status: 'UNLOADED',
          // The rollback's swap had already released 1.0.0's session: the row says so.
          before: { status: 'UNLOADED' },
          after: { status: 'UNLOADED' },
        }),
      }),
    ]);
    expect((await audit('MODEL_CACHE_REGENERATED'))[0]).toMatchObject({
      success: true,
      details: { versions: expect.arrayContaining(['tiny-classifier@2.0.0']) },
    });
    expect(await audit('MODEL_DEVICE_CHANGED')).toEqual([
      expect.objectContaining({
        success: false,
        details: { name: 'tiny-classifier', requested: 'cpu:1', error: 'BAD_USER_INPUT' },
      }),
    ]);
  });
});

describe('device placement', () => {
  it.each([
    ['cuda', dev('CUDA')],
    ['webgpu', dev('WEBGPU')],
    ['tensorrt:0', dev('TENSORRT', 0)],
  ])(
    'a %s placement falls back to cpu with the reason in `device`, and still answers correctly',
    async (device, input) => {
      const res = await h.server.gql<any>(
        Q.setDevice,
        { name: 'tiny-classifier', version: '1.0.0', device: input },
        h.admin.token,
      );
      expect(res.errors).toBeUndefined();
      const v = res.data.setModelDevice;
      expect(v.device).toEqual({
        requested: input,
        actual: dev('CPU'),
        fallbackReason: expect.stringMatching(new RegExp(`^${device.split(':')[0]}`)),
      });
      expect(v.status).toBe('ACTIVE');
      expect(await expectAnswerFrom('v1')).toBe('1.0.0');
      const listed = (
        await h.server.gql<any>(Q.model, { name: 'tiny-classifier' }, h.clinician.token)
      ).data.model.versions.find((x: any) => x.version === '1.0.0');
      expect(listed.device).toEqual(v.device);
      const row = (await rows()).find((r) => r.name === 'tiny-classifier' && r.version === '1.0.0')!;
      expect([row.deviceRequested, row.deviceActual, row.deviceFallbackReason]).toEqual([
        device,
        'cpu',
        v.device.fallbackReason,
      ]);
    },
  );

  it('several models on different placements at once; back to cpu', async () => {
    await h.server.gql(Q.setDevice, { name: 'dg-gap-classifier', device: dev('WEBGPU') }, h.admin.token);
    const models = (await h.server.gql<any>(Q.models, {}, h.admin.token)).data.models;
    const requested = Object.fromEntries(
      models.map((m: any) => [m.name, m.versions.find((v: any) => v.active)?.device.requested]),
    );
    expect(requested).toMatchObject({
      'dg-gap-classifier': dev('WEBGPU'),
      'tiny-classifier': dev('TENSORRT', 0),
      'dg-seg-stats': dev('CPU'),
    });
    const back = await h.server.gql<any>(Q.setDevice, { name: 'tiny-classifier', device: dev('CPU') }, h.admin.token);
    expect(back.data.setModelDevice.device).toEqual({
      requested: dev('CPU'),
      actual: dev('CPU'),
      fallbackReason: null,
    });
  });
});

describe('modelRegistryEvents', () => {
  it('an admin receives the events of a swap and a fallback, in order', async () => {
    const stream = await subscribeEvents(h.server, h.admin.token);
    try {
      await h.server.gql(Q.setDevice, { name: 'tiny-classifier', device: dev('WEBGPU') }, h.admin.token);
      await h.server.gql(Q.activate, { name: 'tiny-classifier', version: '2.0.0' }, h.admin.token);
      await h.server.gql(Q.unload, { name: 'tiny-classifier', version: '1.0.0' }, h.admin.token);
      await stream.waitFor((ev) => ev.filter((e) => e.name === 'tiny-classifier').length >= 4);
      const seen = stream.events.filter((e) => e.name === 'tiny-classifier').map((e) => `${e.type} ${e.version}`);
      expect(seen).toEqual(['FELL_BACK 1.0.0', 'LOADED 1.0.0', 'ACTIVATED 2.0.0', 'UNLOADED 1.0.0']);
      const fell = stream.events.find((e) => e.type === 'FELL_BACK')!;
      expect(fell.device).toMatchObject({ requested: dev('WEBGPU'), actual: dev('CPU') });
      expect(fell.message).toMatch(/^webgpu/);
      expect(stream.events.find((e) => e.type === 'ACTIVATED')!.previousVersion).toBe('1.0.0');
      expect(new Set(stream.events.map((e) => e.processId))).toEqual(new Set([h.server.services.models.processId]));

      // A refused upload is a FAILED event.
      await uploadPackage(h.server, Buffer.from('not a package at all'), 'x.zip', h.admin.token);
      await stream.waitFor((ev) => ev.some((e) => e.type === 'FAILED'));
      expect(stream.events.find((e) => e.type === 'FAILED')!.message).toMatch(/^archive\.type/);
      expect(stream.errors).toEqual([]);
    } finally {
      await stream.close();
    }
  });
});
