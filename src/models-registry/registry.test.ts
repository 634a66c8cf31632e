/** ModelRegistry: loading, running, placing on devices, and hot swap under load. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry as PromRegistry } from 'prom-client';
import { IMAGES, makeClassifierPackage } from '../../test/fixtures/models/packages';
import { classify, MODEL_OF, NAME, recordEvents, registryHarness, until } from './__fixtures__/registry-harness';
import { RegistryMetrics } from './runtime/metrics';

const h = registryHarness();
const { newRegistry, expectAnswerOf, twoVersions } = h;

describe('ModelRegistry: load, run, place', () => {
  it('installs a package, activates it and answers through leases, counting stats', async () => {
    const r = newRegistry();
    const events = recordEvents(r);
    const info = await r.install(await makeClassifierPackage(join(h.work, 'plugins')), {
      activate: true,
      uploadedBy: 'admin@x',
    });
    expect(info).toMatchObject({
      name: NAME,
      version: '1.0.0',
      status: 'ACTIVE',
      active: true,
      labels: ['benign', 'malignant'],
      uploadedBy: 'admin@x',
    });
    expect(info.device).toEqual({ requested: 'cpu', actual: 'cpu', fallbackReason: null });
    expect(info.sha256).toMatch(/^[a-f0-9]{64}$/);
    for (const img of IMAGES) expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, img)), img, 'v1');
    const stats = r.versionInfo(NAME, '1.0.0')!.stats;
    expect(stats).toMatchObject({ requests: 3, errors: 0 });
    expect(stats.p50Ms).toBeGreaterThan(0);
    expect(events.map((e) => e.type)).toEqual(['loaded', 'activated']);
    expect(r.versionInfo(NAME, '1.0.0')!.leases).toBe(0);
  });

  it.each(['cuda', 'webgpu', 'tensorrt:0'])(
    'a %s request falls back to cpu with a reason and still answers correctly',
    async (device) => {
      const r = newRegistry();
      const events = recordEvents(r);
      const info = await r.install(await makeClassifierPackage(join(h.work, 'plugins'), { devices: [device] }), {
        activate: true,
      });
      expect(info.device!.requested).toBe(device);
      if (info.device!.actual === 'cpu') {
        expect(info.device!.fallbackReason).toMatch(new RegExp(`^${device.split(':')[0]}`));
        expect(events.find((e) => e.type === 'fell_back')).toMatchObject({
          name: NAME,
          version: '1.0.0',
          message: info.device!.fallbackReason,
        });
      }
      expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');
    },
  );

  it('acquire refuses unknown models and versions that are not loaded', async () => {
    const r = newRegistry();
    await twoVersions(r);
    expect(() => r.acquire('nope')).toThrow(expect.objectContaining({ code: 'MODEL_UNAVAILABLE' }));
    expect(() => r.acquire(NAME, '9.9.9')).toThrow(expect.objectContaining({ code: 'MODEL_UNAVAILABLE' }));
    // A READY (loaded, not active) version serves requests pinned to it.
    expectAnswerOf(await r.withModel(NAME, '2.0.0', (l) => classify(l, IMAGES[0])), IMAGES[0], 'v2');
    await r.unload(NAME, '2.0.0');
    expect(() => r.acquire(NAME, '2.0.0')).toThrow(/is UNLOADED, not loaded/);
  });

  it('exports Prometheus metrics on the Registry given', async () => {
    const prom = new PromRegistry();
    const r = newRegistry({ metrics: new RegistryMetrics(prom) });
    await twoVersions(r);
    await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[0]));
    await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[1]));
    r.metrics!.observeQueueTime(NAME, '1.0.0', 0.002);
    const text = await prom.metrics();
    expect(text).toContain('dermagraph_model_inferences_total{model="tiny-classifier",version="1.0.0",device="cpu"} 2');
    expect(text).toContain(
      'dermagraph_model_inference_duration_seconds_count{model="tiny-classifier",version="1.0.0",device="cpu"} 2',
    );
    expect(text).toContain('dermagraph_model_sessions_loaded{device="cpu"} 2');
    expect(text).toContain('dermagraph_model_queue_duration_seconds_count{model="tiny-classifier",version="1.0.0"} 1');
  });
});

describe('ModelRegistry: hot swap', () => {
  it('keeps answering through 20 swaps: zero failures, every answer from the version active when its request began', async () => {
    const r = newRegistry();
    const events = recordEvents(r);
    await twoVersions(r);
    let swapping = true;
    let requests = 0;
    const failures: unknown[] = [];
    const loop = async (worker: number) => {
      let i = worker;
      while (swapping) {
        const image = IMAGES[i++ % IMAGES.length];
        try {
          // Same tick: read the active version and take the lease.
          const activeAtStart = r.activeVersion(NAME)!;
          const lease = r.acquire(NAME);
          try {
            expect(lease.version).toBe(activeAtStart);
            expectAnswerOf(await classify(lease, image), image, MODEL_OF[activeAtStart]);
          } finally {
            lease.release();
          }
          requests++;
        } catch (e) {
          failures.push(e);
        }
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    const answeredBy = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const target = i % 2 === 0 ? '2.0.0' : '1.0.0';
      const before = requests;
      await r.activate(NAME, target);
      expect(r.activeVersion(NAME)).toBe(target);
      answeredBy.add(target);
      await until(() => requests > before + 2); // let requests land on this version
    }
    swapping = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(40);
    expect(answeredBy).toEqual(new Set(['1.0.0', '2.0.0']));
    expect(events.filter((e) => e.type === 'activated')).toHaveLength(21);
    // Swapped-out sessions were released once their last lease ended: only the active one is left.
    await until(() => r.versionInfo(NAME, '2.0.0')!.status === 'UNLOADED');
    expect(r.sessionCounts()).toEqual(new Map([['cpu', 1]]));
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'ACTIVE', leases: 0 });
    const stats = [r.versionInfo(NAME, '1.0.0')!.stats, r.versionInfo(NAME, '2.0.0')!.stats];
    expect(stats[0].requests + stats[1].requests).toBe(requests);
    expect(stats[0].errors + stats[1].errors).toBe(0);
  });

  it('re-places the active version back and forth under load without a failed request', async () => {
    const r = newRegistry();
    await twoVersions(r);
    let running = true;
    let requests = 0;
    const failures: unknown[] = [];
    const loops = [0, 1, 2].map(async (w) => {
      let i = w;
      while (running) {
        const image = IMAGES[i++ % IMAGES.length];
        try {
          expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, image)), image, 'v1');
          requests++;
        } catch (e) {
          failures.push(e);
        }
      }
    });
    for (let i = 0; i < 10; i++) {
      const before = requests;
      const info = await r.setDevice(NAME, undefined, i % 2 === 0 ? 'webgpu' : 'cpu');
      expect(info.status).toBe('ACTIVE');
      await until(() => requests > before + 2);
    }
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(r.activeVersion(NAME)).toBe('1.0.0');
    // One session per loaded version is left (1.0.0 active, 2.0.0 ready).
    expect([...r.sessionCounts().values()].reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('concurrent activations run one at a time and end consistent', async () => {
    const r = newRegistry();
    await twoVersions(r);
    const results = await Promise.all([
      r.activate(NAME, '2.0.0'),
      r.activate(NAME, '1.0.0'),
      r.activate(NAME, '2.0.0'),
    ]);
    expect(results.map((v) => v.version)).toEqual(['2.0.0', '1.0.0', '2.0.0']);
    expect(r.activeVersion(NAME)).toBe('2.0.0');
    expect(r.model(NAME)!.versions.map((v) => `${v.version}:${v.status}`)).toEqual(['2.0.0:ACTIVE', '1.0.0:UNLOADED']);
    expect(r.sessionCounts()).toEqual(new Map([['cpu', 1]]));
  });

  it('a swapped-out version drains: its session stays usable until its last lease ends', async () => {
    const r = newRegistry();
    const events = recordEvents(r);
    await twoVersions(r);
    const held = r.acquire(NAME);
    await r.activate(NAME, '2.0.0');
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'DRAINING', leases: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'draining', version: '1.0.0' });
    expectAnswerOf(await classify(held, IMAGES[2]), IMAGES[2], 'v1');
    held.release();
    held.release(); // idempotent
    expect(r.versionInfo(NAME, '1.0.0')).toMatchObject({ status: 'UNLOADED', leases: 0 });
    expect(events.at(-1)).toMatchObject({ type: 'unloaded', version: '1.0.0' });
    await expect(held.run({})).rejects.toThrow(/already released/);
  });

  it('a failed activation never changes the active version', async () => {
    const r = newRegistry();
    const events = recordEvents(r);
    await twoVersions(r);
    await r.unload(NAME, '2.0.0');
    // Break 2.0.0 on disk: its reload at activation finds the model changed since validation.
    await writeFile(join(r.versionInfo(NAME, '2.0.0')!.packageDir, 'model.onnx'), 'garbage');
    await expect(r.activate(NAME, '2.0.0')).rejects.toMatchObject({
      check: 'files.sha256',
      field: 'files["model.onnx"]',
    });
    expect(r.activeVersion(NAME)).toBe('1.0.0');
    expect(r.versionInfo(NAME, '2.0.0')).toMatchObject({ status: 'FAILED', active: false });
    expect(r.versionInfo(NAME, '2.0.0')!.error).toMatch(/files\.sha256/);
    expect(events.at(-1)).toMatchObject({ type: 'failed', name: NAME, version: '2.0.0' });
    expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');
  });

  it('rolls back to the previous active version, reloading it', async () => {
    const r = newRegistry();
    await twoVersions(r);
    await r.activate(NAME, '2.0.0');
    expect(r.versionInfo(NAME, '1.0.0')!.status).toBe('UNLOADED');
    const back = await r.rollback(NAME);
    expect(back).toMatchObject({ version: '1.0.0', status: 'ACTIVE' });
    expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[1])), IMAGES[1], 'v1');
    await expect(newRegistry().rollback(NAME)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('re-places the active version live (setDevice) and regenerates every session', async () => {
    const r = newRegistry();
    const events = recordEvents(r);
    await twoVersions(r);
    const held = r.acquire(NAME);
    const moved = await r.setDevice(NAME, undefined, 'webgpu');
    expect(moved).toMatchObject({ version: '1.0.0', status: 'ACTIVE' });
    expect(moved.device!.requested).toBe('webgpu');
    if (moved.device!.actual === 'cpu') expect(moved.device!.fallbackReason).toMatch(/^webgpu: /);
    // The old session drains under the held lease while the new one serves.
    expect(r.sessionCounts().get('cpu')! + (r.sessionCounts().get('webgpu') ?? 0)).toBe(3);
    expectAnswerOf(await classify(held, IMAGES[0]), IMAGES[0], 'v1');
    held.release();
    expect([...r.sessionCounts().values()].reduce((a, b) => a + b, 0)).toBe(2);
    expectAnswerOf(await r.withModel(NAME, undefined, (l) => classify(l, IMAGES[0])), IMAGES[0], 'v1');

    const before = r.versionInfo(NAME, '2.0.0')!.loadedAt!;
    await new Promise((ok) => setTimeout(ok, 5));
    const regenerated = await r.regenerateCache();
    expect(regenerated.map((v) => `${v.version}:${v.status}`).sort()).toEqual(['1.0.0:ACTIVE', '2.0.0:READY']);
    expect(r.versionInfo(NAME, '2.0.0')!.loadedAt!.getTime()).toBeGreaterThan(before.getTime());
    expect([...r.sessionCounts().values()].reduce((a, b) => a + b, 0)).toBe(2);
    expect(events.some((e) => e.type === 'loaded' && e.device?.requested === 'webgpu')).toBe(true);
    await expect(r.setDevice(NAME, undefined, 'gpu')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('unloading the active version leaves the model without one', async () => {
    const r = newRegistry();
    await twoVersions(r);
    await r.unload(NAME, '1.0.0');
    expect(r.activeVersion(NAME)).toBeNull();
    expect(() => r.acquire(NAME)).toThrow(expect.objectContaining({ code: 'MODEL_UNAVAILABLE' }));
    expect(r.model(NAME)!.versions.map((v) => `${v.version}:${v.status}`)).toEqual(['2.0.0:READY', '1.0.0:UNLOADED']);
  });
});
