/** ModelRegistry: uploads, discovery at start, MODEL_WATCH, and changes broadcast to other processes. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGES, makeClassifierPackage } from '../../test/fixtures/models/packages';
import { classify, NAME, recordEvents, registryHarness, until } from './__fixtures__/registry-harness';
import { RegistryError } from './errors';
import { packPackage } from './package/package';
import { ModelRegistry } from './registry';
import { InMemoryRegistryStore } from './sync/store';

const h = registryHarness();
const { newRegistry, expectAnswerOf, twoProcesses } = h;

describe('ModelRegistry: uploads, discovery, watching, other processes', () => {
  it('keeps an uploaded archive under packagesDir, and refuses the same version again leaving nothing behind', async () => {
    const r = newRegistry();
    const dir = await makeClassifierPackage(join(h.work, 'src'));
    const { outFile } = await packPackage(dir, join(h.work, 'upload.tar.gz'));
    const info = await r.install(outFile, { activate: true });
    expect(info.packageDir).toBe(join(h.work, 'store', NAME, '1.0.0'));
    expect((await readdir(info.packageDir)).sort()).toEqual(['MODEL_CARD.md', 'golden', 'manifest.json', 'model.onnx']);
    await expect(r.install(outFile)).rejects.toMatchObject({ code: 'CONFLICT', check: 'version.exists' });
    await expect(r.install(dir)).rejects.toMatchObject({ code: 'CONFLICT', check: 'version.exists' });
    expect(await readdir(join(h.work, 'store', '.incoming'))).toEqual([]);
    expect(await readdir(join(h.work, 'store'))).toEqual(['.incoming', NAME]);
    expect(r.activeVersion(NAME)).toBe('1.0.0');
  });

  it('refuses a hostile upload without recording anything', async () => {
    const store = new InMemoryRegistryStore();
    const r = newRegistry({ store });
    const events = recordEvents(r);
    const dir = await makeClassifierPackage(join(h.work, 'src'), {
      edit: (m) => (m.outputs = [{ name: 'probs', role: 'logits' }]),
    });
    const { outFile } = await packPackage(dir, join(h.work, 'bad.zip'));
    await expect(r.install(outFile, { activate: true })).rejects.toMatchObject({
      check: 'onnx.io',
      field: 'outputs[0].name',
    });
    expect(r.list()).toEqual([]);
    expect(await store.getVersion(NAME, '1.0.0')).toBeNull();
    expect(await readdir(join(h.work, 'store', '.incoming'))).toEqual([]);
    expect(existsSync(join(h.work, 'store', NAME))).toBe(false);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'failed',
        name: NAME,
        version: '1.0.0',
        message: expect.stringMatching(/^onnx\.io: /),
      }),
    ]);
    // A package refused before its manifest is read has no name to report.
    await writeFile(join(h.work, 'junk.zip'), 'not an archive');
    await expect(r.install(join(h.work, 'junk.zip'))).rejects.toMatchObject({ check: 'archive.type' });
    expect(events.at(-1)).toMatchObject({ type: 'failed', name: null, version: null });
  });

  it('checkName refuses a name once the manifest is read, or once the checks pass, leaving nothing behind', async () => {
    const store = new InMemoryRegistryStore();
    const r = newRegistry({ store });
    const { outFile } = await packPackage(await makeClassifierPackage(join(h.work, 'src')), join(h.work, 'n.zip'));
    const taken = new RegistryError('CONFLICT', 'name.taken: taken', { check: 'name.taken', reason: 'ENSEMBLE_NAME' });
    const asked: string[] = [];
    // Taken from the start: refused before the files are checked (the check is asked once).
    const refuse = async (n: string) => {
      asked.push(n);
      throw taken;
    };
    await expect(r.install(outFile, { checkName: refuse })).rejects.toBe(taken);
    expect(asked).toEqual([NAME]);
    // Taken while the package was checked (an ensemble created meanwhile): refused before it is added.
    let calls = 0;
    await expect(
      r.install(outFile, {
        activate: true,
        checkName: async () => {
          if (++calls === 2) throw taken;
        },
      }),
    ).rejects.toBe(taken);
    expect(calls).toBe(2);
    expect(r.list()).toEqual([]);
    expect(await store.getVersion(NAME, '1.0.0')).toBeNull();
    expect(await readdir(join(h.work, 'store', '.incoming'))).toEqual([]);
    expect(existsSync(join(h.work, 'store', NAME))).toBe(false);
    // A name that is free installs.
    expect(await r.install(outFile, { checkName: async () => undefined })).toMatchObject({ name: NAME });
  });

  it('discovers plugins at start, activating the highest version, or the one the store says is active', async () => {
    const plugins = join(h.work, 'plugins');
    await makeClassifierPackage(plugins, { version: '1.0.0', model: 'v1' });
    await makeClassifierPackage(plugins, { version: '2.0.0', model: 'v2' });
    await mkdir(join(plugins, 'broken'));
    await writeFile(join(plugins, 'broken', 'manifest.json'), '{}');
    const store = new InMemoryRegistryStore();
    const first = newRegistry({ store });
    const started = await first.start([plugins]);
    expect(started.loaded.map((v) => v.version).sort()).toEqual(['1.0.0', '2.0.0']);
    expect(started.failed).toEqual([expect.objectContaining({ path: join(plugins, 'broken') })]);
    expect(first.activeVersion(NAME)).toBe('2.0.0');
    await first.activate(NAME, '1.0.0');
    expect(await store.activeVersions()).toEqual([{ name: NAME, version: '1.0.0' }]);
    await first.close();
    // A process that starts later reads the active version from the store.
    const later = new ModelRegistry({ packagesDir: join(h.work, 'store2'), store: store });
    h.registries.push(later);
    await later.start([plugins]);
    expect(later.activeVersion(NAME)).toBe('1.0.0');
  });

  it('a version the store knows loads from another folder when its model is the same (a moved installation), not when it differs', async () => {
    const store = new InMemoryRegistryStore();
    const first = newRegistry({ store });
    const before = await makeClassifierPackage(join(h.work, 'release-1', 'plugins'), { model: 'v1' });
    expect((await first.start([join(h.work, 'release-1', 'plugins')])).loaded).toHaveLength(1);
    expect(first.activeVersion(NAME)).toBe('1.0.0');
    await first.close();
    // The next release, in a directory of its own over the same store; the old directory is removed.
    const plugins2 = join(h.work, 'release-2', 'plugins');
    const moved = await makeClassifierPackage(plugins2, { model: 'v1' });
    await rm(join(h.work, 'release-1'), { recursive: true });
    const next = new ModelRegistry({ packagesDir: join(h.work, 'store2'), store });
    h.registries.push(next);
    const started = await next.start([plugins2]);
    expect(started).toMatchObject({ failed: [], loaded: [expect.objectContaining({ version: '1.0.0' })] });
    expect(next.activeVersion(NAME)).toBe('1.0.0');
    expectAnswerOf(await next.withModel(NAME, undefined, (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');
    // The store now names the folder that exists.
    expect((await store.getVersion(NAME, '1.0.0'))!.packageDir).toBe(moved);
    expect(moved).not.toBe(before);
    // Another model under the same name and version is refused, wherever it is.
    const other = join(h.work, 'release-3', 'plugins');
    await makeClassifierPackage(other, { model: 'v2' });
    const third = new ModelRegistry({ packagesDir: join(h.work, 'store3'), store });
    h.registries.push(third);
    const refused = await third.start([other]);
    expect(refused.loaded).toEqual([]);
    expect(refused.failed).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: 'CONFLICT', check: 'version.exists' }) }),
    ]);
    expect((await store.getVersion(NAME, '1.0.0'))!.packageDir).toBe(moved);
  });

  it('MODEL_WATCH: a new version folder is validated and loaded, activated only when its manifest says so', async () => {
    const plugins = join(h.work, 'plugins');
    const r = newRegistry();
    await makeClassifierPackage(plugins, { version: '1.0.0', model: 'v1' });
    await r.start([plugins]);
    await makeClassifierPackage(plugins, { version: '2.0.0', model: 'v2' });
    let pass = await r.rescan([plugins]);
    expect(pass.loaded.map((v) => `${v.version}:${v.status}`)).toEqual(['2.0.0:READY']);
    expect(r.activeVersion(NAME)).toBe('1.0.0');
    await makeClassifierPackage(plugins, { version: '3.0.0', model: 'v2', activate: true });
    pass = await r.rescan([plugins]);
    expect(pass.loaded.map((v) => `${v.version}:${v.status}`)).toEqual(['3.0.0:ACTIVE']);
    expect(r.activeVersion(NAME)).toBe('3.0.0');
    // A broken folder fails once and is not retried until it changes.
    const bad = await makeClassifierPackage(plugins, { version: '4.0.0' });
    await writeFile(join(bad, 'model.onnx'), 'not a model');
    expect((await r.rescan([plugins])).failed).toHaveLength(1);
    expect((await r.rescan([plugins])).failed).toHaveLength(0);
    expect(r.versionInfo(NAME, '4.0.0')).toBeNull();
    // The timer-driven form finds a later folder by itself.
    r.watch([plugins], 50);
    await makeClassifierPackage(plugins, { version: '5.0.0' });
    await until(() => r.versionInfo(NAME, '5.0.0')?.status === 'READY');
  });

  it('activation and unload broadcast over the bus switch another process', async () => {
    const { api, worker } = await twoProcesses();
    await api.activate(NAME, '1.0.0');
    await until(() => worker.activeVersion(NAME) === '1.0.0');
    expectAnswerOf(await worker.withModel(NAME, undefined, (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');
    // A version uploaded to one process is loaded by the other from shared storage.
    const uploaded = await makeClassifierPackage(join(h.work, 'src'), { version: '3.0.0', model: 'v2' });
    await api.install(uploaded, { activate: true });
    await until(() => worker.activeVersion(NAME) === '3.0.0');
    await api.unload(NAME, '3.0.0');
    await until(() => worker.activeVersion(NAME) === null);
  });
});
