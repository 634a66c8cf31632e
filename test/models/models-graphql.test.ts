import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import * as tar from 'tar';
import { Role } from '../../src/entities';
import { ModelVersion } from '../../src/entities/model-version';
import { packPackage, sealPackage } from '../../src/models-registry/package/package';
import { zipEntries, type ZipEntry } from '../../src/models-registry/package/zip-writer';
import { softmax } from '../../src/inference/softmax';
import {
  editManifest,
  IMAGES,
  INPUT,
  makeClassifierPackage,
  referenceProbabilities,
  tempDir,
  tensorOf,
  type ClassifierVersion,
} from '../fixtures/models/packages';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { filesUnder, Q, subscribeEvents, uploadFile, uploadPackage } from './helpers';

/**
 * The model registry through GraphQL on a real server: the shipped plugins, uploads of real ONNX
 * packages (.zip and .tar.gz), hostile packages, roles, device fallback and the event subscription.
 */
const SHIPPED = ['dg-gap-classifier', 'dg-mlp-classifier', 'dg-seg-skin-distance', 'dg-seg-stats'];
const MAX_PACKAGE_BYTES = 3_000_000;

let server: TestServer;
let admin: SignedInUser;
let clinician: SignedInUser;
let work: string;
let packagesDir: string;

beforeAll(async () => {
  server = await startTestServer({ env: { MODEL_PACKAGE_MAX_BYTES: String(MAX_PACKAGE_BYTES) } });
  admin = await createSignedInUser(server, { role: Role.ADMIN });
  clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
  work = await tempDir();
  packagesDir = join(server.config.dataDir, 'models');
});
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const rows = () =>
  server.services.db.orm.em.fork().find(ModelVersion, {}, { orderBy: { name: 'asc', version: 'asc' } });

/** Runs the model's active version (as inference will) on a real image; probabilities after softmax. */
async function classify(name: string, image = IMAGES[2]): Promise<{ version: string; probabilities: number[] }> {
  const tensor = await tensorOf(image);
  return server.services.models.withModel(name, undefined, async (lease) => {
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

async function packed(version: string, model: ClassifierVersion, ext: 'zip' | 'tar.gz'): Promise<string> {
  const dir = await makeClassifierPackage(join(work, `${version}-${ext}`), { version, model });
  return (await packPackage(dir, join(work, `tiny-classifier-${version}.${ext}`))).outFile;
}

describe('reading models', () => {
  it('lists the shipped plugins, each active on cpu with its sha256, to any signed-in user', async () => {
    const res = await server.gql<any>(Q.models, {}, clinician.token);
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
        task: manifest.task,
        sha256: manifest.files[manifest.modelFile],
        device: { requested: 'cpu', actual: 'cpu', fallbackReason: null },
        uploadedBy: null,
      });
      expect(m.versions[0].loadMs).toBeGreaterThan(0);
    }
    expect(byName['dg-gap-classifier'].versions[0].labels.length).toBeGreaterThan(1);
    const one = await server.gql<any>(Q.model, { name: 'dg-seg-stats' }, clinician.token);
    expect(one.data.model).toMatchObject({ name: 'dg-seg-stats', task: 'segmentation', activeVersion: '1.0.0' });
    expect((await server.gql<any>(Q.model, { name: 'no-such-model' }, clinician.token)).data.model).toBeNull();
  });

  it('refuses anonymous callers with UNAUTHENTICATED', async () => {
    const res = await server.gql(Q.models);
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
    const zip = await uploadFile(server, await packed('1.0.0', 'v1', 'zip'), admin.token);
    expect(zip.errors).toBeUndefined();
    expect(zip.data.uploadModelPackage).toMatchObject({
      name: 'tiny-classifier',
      version: '1.0.0',
      status: 'READY',
      active: false,
      uploadedBy: admin.id,
      device: { actual: 'cpu' },
    });
    expect(server.services.models.activeVersion('tiny-classifier')).toBeNull();

    const tgz = await uploadFile(server, await packed('2.0.0', 'v2', 'tar.gz'), admin.token, true);
    expect(tgz.errors).toBeUndefined();
    expect(tgz.data.uploadModelPackage).toMatchObject({ version: '2.0.0', status: 'ACTIVE', active: true });
    expect(await expectAnswerFrom('v2')).toBe('2.0.0');

    const model = (await server.gql<any>(Q.model, { name: 'tiny-classifier' }, admin.token)).data.model;
    expect(model.activeVersion).toBe('2.0.0');
    expect(model.versions.map((v: any) => [v.version, v.status])).toEqual([
      ['2.0.0', 'ACTIVE'],
      ['1.0.0', 'READY'],
    ]);
    expect(model.versions[0].stats.requests).toBe(1);
    expect(model.versions[0].stats.p50Ms).toBeGreaterThan(0);

    // Kept in storage under DATA_DIR/models/<name>/<version>, recorded with the uploader; no upload left over.
    const files = await filesUnder(packagesDir);
    expect(files).toEqual(
      expect.arrayContaining(['tiny-classifier/1.0.0/model.onnx', 'tiny-classifier/2.0.0/manifest.json']),
    );
    expect(files.filter((f) => f.startsWith('.incoming'))).toEqual([]);
    const stored = (await rows()).filter((r) => r.name === 'tiny-classifier');
    expect(stored.map((r) => [r.version, r.status, r.active, r.uploadedBy])).toEqual([
      ['1.0.0', 'READY', false, admin.id],
      ['2.0.0', 'ACTIVE', true, admin.id],
    ]);
  });

  it('activate, rollback and unload switch the answering version', async () => {
    const act = await server.gql<any>(Q.activate, { name: 'tiny-classifier', version: '1.0.0' }, admin.token);
    expect(act.data.activateModelVersion).toMatchObject({ version: '1.0.0', status: 'ACTIVE' });
    expect(await expectAnswerFrom('v1')).toBe('1.0.0');
    const back = await server.gql<any>(Q.rollback, { name: 'tiny-classifier' }, admin.token);
    expect(back.data.rollbackModelVersion).toMatchObject({ version: '2.0.0', status: 'ACTIVE' });
    expect(await expectAnswerFrom('v2')).toBe('2.0.0');

    const unloaded = await server.gql<any>(Q.unload, { name: 'tiny-classifier', version: '1.0.0' }, admin.token);
    expect(unloaded.data.unloadModelVersion).toMatchObject({ version: '1.0.0', status: 'UNLOADED', active: false });
    const regenerated = await server.gql<any>(Q.regenerate, {}, admin.token);
    expect(regenerated.errors).toBeUndefined();
    expect(regenerated.data.regenerateModelCache.map((v: any) => `${v.name}@${v.version}`)).toEqual(
      expect.arrayContaining(['tiny-classifier@2.0.0', ...SHIPPED.map((n) => `${n}@1.0.0`)]),
    );
    // An unloaded version comes back on activation (reloaded from storage, checked again).
    expect(
      (await server.gql<any>(Q.activate, { name: 'tiny-classifier', version: '1.0.0' }, admin.token)).data
        .activateModelVersion.status,
    ).toBe('ACTIVE');
    expect(await expectAnswerFrom('v1')).toBe('1.0.0');
  });

  it('unknown models and versions are NOT_FOUND; rollback without history is CONFLICT', async () => {
    expect(
      (await server.gql(Q.activate, { name: 'tiny-classifier', version: '9.9.9' }, admin.token)).errors?.[0].extensions,
    ).toMatchObject({ code: 'NOT_FOUND', field: 'version' });
    expect((await server.gql(Q.rollback, { name: 'dg-seg-stats' }, admin.token)).errors?.[0].extensions?.code).toBe(
      'CONFLICT',
    );
    expect(
      (await server.gql(Q.setDevice, { name: 'tiny-classifier', device: 'tpu' }, admin.token)).errors?.[0].extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'device' });
  });

  it('every admin change to the registry is in the audit log: who, from where, what, and how it ended', async () => {
    const audit = async (action: string) =>
      (
        await server.gql<any>(
          `query($f: AuditLogFilter) { auditLog(filter: $f, first: 50) { edges { node { action success actorId ip details } } } }`,
          { f: { action } },
          admin.token,
        )
      ).data.auditLog.edges.map((e: any) => e.node);
    const uploads = await audit('MODEL_UPLOADED');
    expect(uploads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          success: true,
          actorId: admin.id,
          details: expect.objectContaining({ name: 'tiny-classifier', version: '2.0.0', activate: true }),
        }),
      ]),
    );
    const activations = await audit('MODEL_ACTIVATED');
    expect(activations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          success: true,
          actorId: admin.id,
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
      ]),
    );
    expect(activations.every((a: any) => a.ip)).toBe(true);
    expect(await audit('MODEL_ROLLED_BACK')).toEqual(
      [
        expect.objectContaining({
          success: true,
          details: expect.objectContaining({ name: 'tiny-classifier', version: '2.0.0' }),
        }),
        expect.objectContaining({ success: false, details: { name: 'dg-seg-stats', error: 'CONFLICT' } }),
      ].reverse(),
    );
    expect(await audit('MODEL_UNLOADED')).toEqual([
      expect.objectContaining({
        success: true,
        details: expect.objectContaining({ name: 'tiny-classifier', version: '1.0.0', status: 'UNLOADED' }),
      }),
    ]);
    expect((await audit('MODEL_CACHE_REGENERATED'))[0]).toMatchObject({
      success: true,
      details: { versions: expect.arrayContaining(['tiny-classifier@2.0.0']) },
    });
    expect(await audit('MODEL_DEVICE_CHANGED')).toEqual([
      expect.objectContaining({
        success: false,
        details: { name: 'tiny-classifier', requested: 'tpu', error: 'BAD_USER_INPUT' },
      }),
    ]);
  });
});

describe('hostile uploads: each refused with its code and check, nothing left behind', () => {
  async function entriesOf(dir: string): Promise<ZipEntry[]> {
    const out: ZipEntry[] = [];
    for (const f of await filesUnder(dir)) out.push({ name: f, data: await readFile(join(dir, f)) });
    return out;
  }
  const tarGz = (path: string, opts: Record<string, unknown>, data = Buffer.alloc(0)) => {
    const block = Buffer.alloc(512);
    new tar.Header({ path, type: 'File', mode: 0o644, mtime: new Date(0), size: data.length, ...opts }).encode(
      block,
      0,
    );
    const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
    data.copy(padded);
    return gzipSync(Buffer.concat([block, padded, Buffer.alloc(1024)]));
  };
  const good = () =>
    makeClassifierPackage(join(work, `hostile-${Math.random().toString(36).slice(2)}`), {
      name: 'hostile-model',
      version: '1.0.0',
    });

  const cases: Array<[string, () => Promise<Buffer>, string, string]> = [
    [
      'zip-slip path',
      async () =>
        zipEntries([...(await entriesOf(await good())), { name: '../../evil.txt', data: Buffer.from('pwned') }]),
      'BAD_USER_INPUT',
      'archive.path',
    ],
    [
      'zip-slip path in a tar.gz',
      async () => tarGz('../evil.txt', {}, Buffer.from('pwned')),
      'BAD_USER_INPUT',
      'archive.path',
    ],
    [
      'symlink',
      async () =>
        zipEntries([
          ...(await entriesOf(await good())),
          { name: 'passwd', data: Buffer.from('/etc/passwd'), mode: 0o120777 },
        ]),
      'BAD_USER_INPUT',
      'archive.link',
    ],
    [
      '10 GB declared size',
      async () =>
        zipEntries([
          { name: 'manifest.json', data: Buffer.from('{}') },
          { name: 'model.onnx', data: Buffer.from('tiny'), declaredSize: 10 * 1024 ** 3 },
        ]),
      'PAYLOAD_TOO_LARGE',
      'archive.size',
    ],
    [
      'missing manifest',
      async () => zipEntries((await entriesOf(await good())).filter((e) => e.name !== 'manifest.json')),
      'BAD_USER_INPUT',
      'package.manifest',
    ],
    [
      'manifest naming an output the model lacks',
      async () =>
        zipEntries(
          await entriesOf(
            await makeClassifierPackage(join(work, 'bad-output'), {
              name: 'hostile-model',
              edit: (m) => (m.outputs = [{ name: 'probs', role: 'logits' }]),
            }),
          ),
        ),
      'BAD_USER_INPUT',
      'onnx.io',
    ],
    [
      'wrong sha256',
      async () => {
        const dir = await good();
        await editManifest(dir, (m) => (m.files['golden/case0.jpg'] = '0'.repeat(64)));
        return zipEntries(await entriesOf(dir));
      },
      'BAD_USER_INPUT',
      'files.sha256',
    ],
    [
      'a non-ONNX file named model.onnx',
      async () => {
        const dir = await good();
        await writeFile(join(dir, 'model.onnx'), 'this is not a model\n');
        await sealPackage(dir);
        return zipEntries(await entriesOf(dir));
      },
      'BAD_USER_INPUT',
      'onnx.load',
    ],
    [
      'a golden case that fails',
      async () =>
        zipEntries(
          await entriesOf(
            await makeClassifierPackage(join(work, 'bad-golden'), {
              name: 'hostile-model',
              edit: (m) =>
                ((m.goldenCases[1] as { expected: { probabilities: number[] } }).expected.probabilities = [0.5, 0.5]),
            }),
          ),
        ),
      'BAD_USER_INPUT',
      'golden',
    ],
    [
      'a version that already exists',
      async () =>
        zipEntries(await entriesOf(await makeClassifierPackage(join(work, 'dup'), { version: '2.0.0', model: 'v2' }))),
      'CONFLICT',
      'version.exists',
    ],
    [
      'a shipped version uploaded again',
      async () => zipEntries(await entriesOf(join(__dirname, '../../plugins/dg-gap-classifier'))),
      'CONFLICT',
      'version.exists',
    ],
    [
      'a file that is no archive',
      async () => Buffer.from('%PDF-1.7 not a package'),
      'UNSUPPORTED_MEDIA_TYPE',
      'archive.type',
    ],
    [
      'an upload over MODEL_PACKAGE_MAX_BYTES',
      async () => Buffer.alloc(MAX_PACKAGE_BYTES + 1, 7),
      'PAYLOAD_TOO_LARGE',
      'archive.size',
    ],
  ];

  it.each(cases)('%s', async (_label, build, code, check) => {
    const rowsBefore = (await rows()).map((r) => `${r.name}@${r.version}:${r.status}`);
    const filesBefore = await filesUnder(packagesDir);
    const modelsBefore = server.services.models.list().map((m) => `${m.name}@${m.activeVersion}`);
    const res = await uploadPackage(server, await build(), 'package.zip', admin.token, true);
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toMatchObject({ code, check });
    expect(res.errors?.[0].message.startsWith(`${check}: `)).toBe(true);
    expect(res.errors?.[0].message).not.toMatch(/\/tmp\/|dg-test-|\.incoming/); // no server paths
    expect((await rows()).map((r) => `${r.name}@${r.version}:${r.status}`)).toEqual(rowsBefore);
    expect(await filesUnder(packagesDir)).toEqual(filesBefore);
    expect(server.services.models.list().map((m) => `${m.name}@${m.activeVersion}`)).toEqual(modelsBefore);
    expect(server.services.models.model('hostile-model')).toBeNull();
  });
});

describe('roles', () => {
  it('every mutation is FORBIDDEN to a clinician and UNAUTHENTICATED without a token', async () => {
    const zip = await readFile(await packed('3.0.0', 'v1', 'zip'));
    for (const token of [clinician.token, undefined]) {
      const want = token ? 'FORBIDDEN' : 'UNAUTHENTICATED';
      expect((await uploadPackage(server, zip, 'p.zip', token, true)).errors?.[0].extensions?.code).toBe(want);
      for (const [q, vars] of [
        [Q.activate, { name: 'tiny-classifier', version: '1.0.0' }],
        [Q.unload, { name: 'tiny-classifier', version: '1.0.0' }],
        [Q.setDevice, { name: 'tiny-classifier', device: 'cpu' }],
        [Q.regenerate, {}],
        [Q.rollback, { name: 'tiny-classifier' }],
      ] as const) {
        expect((await server.gql(q, vars, token)).errors?.[0].extensions?.code).toBe(want);
      }
    }
    expect(server.services.models.versionInfo('tiny-classifier', '3.0.0')).toBeNull();
    expect(await filesUnder(join(packagesDir, 'tiny-classifier', '3.0.0'))).toEqual([]);
  });

  it('the event subscription is FORBIDDEN to a clinician', async () => {
    const stream = await subscribeEvents(server, clinician.token);
    try {
      await stream.waitFor(() => stream.errors.length > 0);
      expect(JSON.stringify(stream.errors)).toMatch(/FORBIDDEN/);
    } finally {
      await stream.close();
    }
  });
});

describe('device placement', () => {
  it.each(['cuda', 'webgpu', 'tensorrt:0'])(
    'a %s placement falls back to cpu with the reason in `device`, and still answers correctly',
    async (device) => {
      const res = await server.gql<any>(
        Q.setDevice,
        { name: 'tiny-classifier', version: '1.0.0', device },
        admin.token,
      );
      expect(res.errors).toBeUndefined();
      const v = res.data.setModelDevice;
      expect(v.device).toEqual({
        requested: device,
        actual: 'cpu',
        fallbackReason: expect.stringMatching(new RegExp(`^${device.split(':')[0]}`)),
      });
      expect(v.status).toBe('ACTIVE');
      expect(await expectAnswerFrom('v1')).toBe('1.0.0');
      const listed = (
        await server.gql<any>(Q.model, { name: 'tiny-classifier' }, clinician.token)
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
    await server.gql(Q.setDevice, { name: 'dg-gap-classifier', device: 'webgpu' }, admin.token);
    const models = (await server.gql<any>(Q.models, {}, admin.token)).data.models;
    const requested = Object.fromEntries(
      models.map((m: any) => [m.name, m.versions.find((v: any) => v.active)?.device.requested]),
    );
    expect(requested).toMatchObject({
      'dg-gap-classifier': 'webgpu',
      'tiny-classifier': 'tensorrt:0',
      'dg-seg-stats': 'cpu',
    });
    const back = await server.gql<any>(Q.setDevice, { name: 'tiny-classifier', device: 'cpu' }, admin.token);
    expect(back.data.setModelDevice.device).toEqual({ requested: 'cpu', actual: 'cpu', fallbackReason: null });
  });
});

describe('modelRegistryEvents', () => {
  it('an admin receives the events of a swap and a fallback, in order', async () => {
    const stream = await subscribeEvents(server, admin.token);
    try {
      await server.gql(Q.setDevice, { name: 'tiny-classifier', device: 'webgpu' }, admin.token);
      await server.gql(Q.activate, { name: 'tiny-classifier', version: '2.0.0' }, admin.token);
      await server.gql(Q.unload, { name: 'tiny-classifier', version: '1.0.0' }, admin.token);
      await stream.waitFor((ev) => ev.filter((e) => e.name === 'tiny-classifier').length >= 4);
      const seen = stream.events.filter((e) => e.name === 'tiny-classifier').map((e) => `${e.type} ${e.version}`);
      expect(seen).toEqual(['FELL_BACK 1.0.0', 'LOADED 1.0.0', 'ACTIVATED 2.0.0', 'UNLOADED 1.0.0']);
      const fell = stream.events.find((e) => e.type === 'FELL_BACK')!;
      expect(fell.device).toMatchObject({ requested: 'webgpu', actual: 'cpu' });
      expect(fell.message).toMatch(/^webgpu/);
      expect(stream.events.find((e) => e.type === 'ACTIVATED')!.previousVersion).toBe('1.0.0');
      expect(new Set(stream.events.map((e) => e.processId))).toEqual(new Set([server.services.models.processId]));

      // A refused upload is a FAILED event.
      await uploadPackage(server, Buffer.from('not a package at all'), 'x.zip', admin.token);
      await stream.waitFor((ev) => ev.some((e) => e.type === 'FAILED'));
      expect(stream.events.find((e) => e.type === 'FAILED')!.message).toMatch(/^archive\.type/);
      expect(stream.errors).toEqual([]);
    } finally {
      await stream.close();
    }
  });
});
