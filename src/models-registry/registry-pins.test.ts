/** ModelRegistry: queued jobs across swaps (leaseForJob, pins), rollback history in the store, status. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGES, makeClassifierPackage } from '../../test/fixtures/models/packages';
import { classify, NAME, recordEvents, registryHarness, until } from './__fixtures__/registry-harness';
import { InMemoryRegistryStore } from './sync/store';

const h = registryHarness();
const { newRegistry, expectAnswerOf, twoVersions, twoProcesses } = h;

/**
 * Issue [7], "Hot swap drops requests": a job's version was fixed when it was queued but only
 * leased when it started, so a swap or unload in between failed it for good; rollback history
 * lived in memory; regenerateModelCache acted on one process; an old version read UNLOADED but
 * loaded: true. Each test below fails on the registry before that fix.
 */
describe('ModelRegistry: queued jobs across swaps (leaseForJob, pins), history, status', () => {
  it('after a swap the old version is UNLOADED and not loaded: status and `loaded` agree', async () => {
    const r = newRegistry();
    await twoVersions(r);
    await r.activate(NAME, '2.0.0');
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'UNLOADED', loaded: false, leases: 0 });
    const held = r.acquire(NAME, '2.0.0');
    await r.unload(NAME, '2.0.0');
    expect(r.versionInfo(NAME, '2.0.0')).toMatchObject({ status: 'DRAINING', loaded: true, leases: 1 });
    held.release();
    expect(r.versionInfo(NAME, '2.0.0')).toMatchObject({ status: 'UNLOADED', loaded: false });
  });

  it('an unpinned job runs on the version active when it starts; with none active, on the one it was queued with', async () => {
    const r = newRegistry();
    await twoVersions(r);
    await r.activate(NAME, '2.0.0');
    const now = await r.leaseForJob(NAME, '1.0.0', false);
    expect(now.version).toBe('2.0.0');
    now.release();
    await r.unload(NAME, '2.0.0');
    expect(r.activeVersion(NAME)).toBeNull();
    const queuedWith = await r.leaseForJob(NAME, '1.0.0', false);
    expect(queuedWith.version).toBe('1.0.0');
    expectAnswerOf(await classify(queuedWith, IMAGES[0]), IMAGES[0], 'v1');
    queuedWith.release();
  });

  it('a version pinned by queued jobs is held through a swap and an unload, then released once no job pins it', async () => {
    const pinned = new Set(['1.0.0']);
    const r = newRegistry({ pins: async (_name, version) => (pinned.has(version) ? 1 : 0), pinSweepMs: 20 });
    const events = recordEvents(r);
    await twoVersions(r);
    await r.activate(NAME, '2.0.0');
    // Swapped out but pinned: kept, and still the answer for pinned jobs.
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'DRAINING', loaded: true, active: false });
    expect(events.find((e) => e.type === 'draining' && e.version === '1.0.0')?.message).toMatch(
      /1 queued job\(s\) pinned/,
    );
    const lease = await r.leaseForJob(NAME, '1.0.0', true);
    expect(lease.version).toBe('1.0.0');
    expectAnswerOf(await classify(lease, IMAGES[1]), IMAGES[1], 'v1');
    lease.release();
    await r.recheckPins();
    expect(r.versionInfo(NAME, '1.0.0')!.status).toBe('DRAINING');
    // An admin unloads the active version while a queued job pinned it: held the same way.
    pinned.add('2.0.0');
    expect(await r.unload(NAME, '2.0.0')).toMatchObject({ status: 'DRAINING', loaded: true, active: false });
    const late = await r.leaseForJob(NAME, '2.0.0', true);
    expectAnswerOf(await classify(late, IMAGES[0]), IMAGES[0], 'v2');
    late.release();
    pinned.clear();
    await until(() => ['1.0.0', '2.0.0'].every((v) => r.versionInfo(NAME, v)!.status === 'UNLOADED'));
    expect(r.model(NAME)!.versions.map((v) => v.loaded)).toEqual([false, false]);
    expect(r.sessionCounts().size).toBe(0);
  });

  it('a pinned job whose version this process no longer holds loads it again, checked, and lets it go after', async () => {
    let pins = 1;
    const r = newRegistry({ pins: async () => pins, pinSweepMs: 20 });
    await twoVersions(r);
    pins = 0;
    await r.activate(NAME, '2.0.0'); // 1.0.0 released: nobody pinned it then
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'UNLOADED', loaded: false });
    pins = 1; // a job queued just before, pinning 1.0.0, starts now
    const [a, b] = await Promise.all([r.leaseForJob(NAME, '1.0.0', true), r.leaseForJob(NAME, '1.0.0', true)]);
    expect(r.sessionCounts().get('cpu')).toBe(2); // loaded once for both
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'DRAINING', loaded: true, active: false, leases: 2 });
    expectAnswerOf(await classify(a, IMAGES[2]), IMAGES[2], 'v1');
    a.release();
    b.release();
    pins = 0;
    await until(() => r.versionInfo(NAME, '1.0.0')!.status === 'UNLOADED');
    // A version nobody ever stored is still an error, not a hang.
    await expect(r.leaseForJob(NAME, '9.9.9', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('re-activating a version held for pinned jobs reuses its session', async () => {
    const r = newRegistry({ pins: async (_n, v) => (v === '1.0.0' ? 1 : 0) });
    await twoVersions(r);
    await r.activate(NAME, '2.0.0');
    expect(r.sessionCounts().get('cpu')).toBe(2);
    await r.activate(NAME, '1.0.0');
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'ACTIVE', loaded: true });
    expect(r.versionInfo(NAME, '2.0.0')).toMatchObject({ status: 'UNLOADED', loaded: false });
    expect(r.sessionCounts().get('cpu')).toBe(1);
  });

  it('a held session adopted by an activation is not released by a pin sweep that was already reading', async () => {
    let answer: (n: number) => void = () => undefined;
    let pins: (name: string, version: string) => Promise<number> = async () => 1;
    const r = newRegistry({ pins: (n, v) => pins(n, v) });
    await twoVersions(r);
    await r.activate(NAME, '2.0.0'); // 1.0.0 held: pinned
    let first = true; // the sweep's read hangs until answered; later reads (the activation's) answer at once
    pins = () => (first ? ((first = false), new Promise<number>((ok) => (answer = ok))) : Promise.resolve(0));
    const sweep = r.recheckPins();
    const back = r.activate(NAME, '1.0.0'); // adopts the held session meanwhile
    await until(() => r.versionInfo(NAME, '1.0.0')!.status === 'ACTIVE');
    answer(0); // "no job pins 1.0.0 any more", read before the adoption
    await sweep;
    await back;
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'ACTIVE', loaded: true });
    expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');
  });

  it('rollback history lives in the store: another process rolls back, and each rollback goes one step further back', async () => {
    const store = new InMemoryRegistryStore();
    const a = newRegistry({ store });
    const pkgs = join(h.work, 'plugins');
    await a.install(await makeClassifierPackage(pkgs, { version: '1.0.0', model: 'v1' }), { activate: true });
    await a.install(await makeClassifierPackage(pkgs, { version: '2.0.0', model: 'v2' }), { activate: true });
    await a.install(await makeClassifierPackage(pkgs, { version: '3.0.0', model: 'v1' }), { activate: true });
    await a.close();
    // A process started after those activations: it never saw them happen.
    const b = newRegistry({ store, packagesDir: join(h.work, 'store-b') });
    await b.start([pkgs]);
    expect(b.activeVersion(NAME)).toBe('3.0.0');
    expect((await b.rollback(NAME)).version).toBe('2.0.0');
    expect((await b.rollback(NAME)).version).toBe('1.0.0');
    await expect(b.rollback(NAME)).rejects.toMatchObject({ code: 'CONFLICT' });
    // A new activation starts a new step: rolling it back returns to where it came from.
    await b.activate(NAME, '3.0.0');
    expect((await b.rollback(NAME)).version).toBe('1.0.0');
  });

  it('regenerateCache reaches every process over the bus and reports a version that fails instead of dropping it', async () => {
    const { api, worker, plugins } = await twoProcesses();
    const workerEvents = recordEvents(worker);
    const before = worker.versionInfo(NAME, '2.0.0')!.loadedAt!;
    // Break 1.0.0's file: its session cannot be re-created (the old one keeps serving).
    await writeFile(join(plugins, `${NAME}-1.0.0`, 'model.onnx'), 'garbage');
    const results = await api.regenerateCache();
    expect(results.map((v) => [v.version, v.error === null])).toEqual(
      expect.arrayContaining([
        ['1.0.0', false],
        ['2.0.0', true],
      ]),
    );
    expect(results.find((v) => v.version === '1.0.0')!.error).toMatch(/^cache regeneration failed: files\.sha256/);
    await until(
      () =>
        workerEvents.some((e) => e.type === 'failed' && e.version === '1.0.0') &&
        worker.versionInfo(NAME, '2.0.0')!.loadedAt! > before,
    );
    expect(worker.versionInfo(NAME, '1.0.0')!.error).toMatch(/^cache regeneration failed/);
    expectAnswerOf(await worker.withModel(NAME, '1.0.0', (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');
  });
});
