import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { sealPackage } from '../../src/models-registry/package/package';
import { zipEntries, type ZipEntry } from '../../src/models-registry/package/zip-writer';
import { editManifest, makeClassifierPackage } from '../fixtures/models/packages';
import {
  dev,
  filesUnder,
  MAX_PACKAGE_BYTES,
  modelsServer,
  Q,
  subscribeEvents,
  uploadFile,
  uploadPackage,
} from './helpers';

/**
 * The model registry through GraphQL on a real server, refusing: hostile packages (each with its
 * code and check, nothing left behind) and callers who are not admins.
 */
const h = modelsServer();
const { rows, packed } = h;

// tiny-classifier 2.0.0 exists: uploading it again is a conflict.
beforeAll(async () => {
  const res = await uploadFile(h.server, await packed('2.0.0', 'v2', 'tar.gz'), h.admin.token);
  expect(res.errors).toBeUndefined();
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
    makeClassifierPackage(join(h.work, `hostile-${Math.random().toString(36).slice(2)}`), {
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
            await makeClassifierPackage(join(h.work, 'bad-output'), {
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
            await makeClassifierPackage(join(h.work, 'bad-golden'), {
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
        zipEntries(
          await entriesOf(await makeClassifierPackage(join(h.work, 'dup'), { version: '2.0.0', model: 'v2' })),
        ),
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
    const filesBefore = await filesUnder(h.packagesDir);
    const modelsBefore = h.server.services.models.list().map((m) => `${m.name}@${m.activeVersion}`);
    const res = await uploadPackage(h.server, await build(), 'package.zip', h.admin.token, true);
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toMatchObject({ code, check });
    expect(res.errors?.[0].message.startsWith(`${check}: `)).toBe(true);
    expect(res.errors?.[0].message).not.toMatch(/\/tmp\/|dg-test-|\.incoming/); // no server paths
    expect((await rows()).map((r) => `${r.name}@${r.version}:${r.status}`)).toEqual(rowsBefore);
    expect(await filesUnder(h.packagesDir)).toEqual(filesBefore);
    expect(h.server.services.models.list().map((m) => `${m.name}@${m.activeVersion}`)).toEqual(modelsBefore);
    expect(h.server.services.models.model('hostile-model')).toBeNull();
  });
});

describe('roles', () => {
  it('every mutation is FORBIDDEN to a clinician and UNAUTHENTICATED without a token', async () => {
    const zip = await readFile(await packed('3.0.0', 'v1', 'zip'));
    for (const token of [h.clinician.token, undefined]) {
      const want = token ? 'FORBIDDEN' : 'UNAUTHENTICATED';
      expect((await uploadPackage(h.server, zip, 'p.zip', token, true)).errors?.[0].extensions?.code).toBe(want);
      for (const [q, vars] of [
        [Q.activate, { name: 'tiny-classifier', version: '1.0.0' }],
        [Q.unload, { name: 'tiny-classifier', version: '1.0.0' }],
        [Q.setDevice, { name: 'tiny-classifier', device: dev('CPU') }],
        [Q.regenerate, {}],
        [Q.rollback, { name: 'tiny-classifier' }],
      ] as const) {
        expect((await h.server.gql(q, vars, token)).errors?.[0].extensions?.code).toBe(want);
      }
    }
    expect(h.server.services.models.versionInfo('tiny-classifier', '3.0.0')).toBeNull();
    expect(await filesUnder(join(h.packagesDir, 'tiny-classifier', '3.0.0'))).toEqual([]);
  });

  it('the event subscription is FORBIDDEN to a clinician', async () => {
    const stream = await subscribeEvents(h.server, h.clinician.token);
    try {
      await stream.waitFor(() => stream.errors.length > 0);
      expect(JSON.stringify(stream.errors)).toMatch(/FORBIDDEN/);
    } finally {
      await stream.close();
    }
  });
});
