/**
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Registry as PromRegistry } from 'prom-client';
import {
  IMAGES,
  makeClassifierPackage,
  referenceProbabilities,
  tempDir,
  tensorOf,
  type ClassifierVersion,
} from '../../test/fixtures/models/packages';
import { softmax } from '../inference/softmax';
import { InMemoryRegistryBus } from './sync/bus';
import { RegistryMetrics } from './runtime/metrics';
import { packPackage } from './package/package';
import { ModelRegistry, type ModelLease, type RegistryEvent } from './registry';
import { InMemoryRegistryStore } from './sync/store';

const NAME = 'tiny-classifier';
/** Version -> the fixture model inside it (v1 leans benign, v2 malignant). */
const MODEL_OF: Record<string, ClassifierVersion> = { '1.0.0': 'v1', '2.0.0': 'v2' };

let work: string;
let registries: ModelRegistry[] = [];
let references: Map<string, number[]>; // `${image}|${model}` -> expected probabilities

beforeAll(async () => {
  references = new Map();
  for (const img of IMAGES)
    for (const m of ['v1', 'v2'] as const)
      references.set(`${img}|${m}`, referenceProbabilities(await tensorOf(img), m));
});
beforeEach(async () => {
  work = await tempDir();
  registries = [];
});
afterEach(async () => {
  for (const r of registries) await r.close();
  await rm(work, { recursive: true, force: true });
});

function newRegistry(opts: Partial<ConstructorParameters<typeof ModelRegistry>[0]> = {}): ModelRegistry {
  const r = new ModelRegistry({ packagesDir: join(work, 'store'), ...opts });
  registries.push(r);
  return r;
}

function recordEvents(r: ModelRegistry): RegistryEvent[] {
  const events: RegistryEvent[] = [];
  r.onEvent((e) => events.push(e));
  return events;
}

/** Classifies one image through a lease and returns the probabilities. */
async function classify(lease: ModelLease, image: string): Promise<number[]> {
  const t = await tensorOf(image);
  const out = await lease.run({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
  return softmax(out.logits.data as Float32Array);
}

function expectAnswerOf(got: number[], image: string, model: ClassifierVersion): void {
  const want = references.get(`${image}|${model}`)!;
  got.forEach((p, i) => expect(Math.abs(p - want[i])).toBeLessThan(1e-4));
}

/** Both versions installed from folders, 1.0.0 active. */
async function twoVersions(r: ModelRegistry): Promise<void> {
  const pkgs = join(work, 'plugins');
  await r.install(await makeClassifierPackage(pkgs, { version: '1.0.0', model: 'v1' }), { activate: true });
  await r.install(await makeClassifierPackage(pkgs, { version: '2.0.0', model: 'v2' }));
}

/** Two processes ("api" and "worker") sharing a store and a bus, both started on plugins with 1.0.0 and 2.0.0. */
async function twoProcesses(): Promise<{ api: ModelRegistry; worker: ModelRegistry; plugins: string }> {
  const [store, bus] = [new InMemoryRegistryStore(), new InMemoryRegistryBus()];
  const plugins = join(work, 'plugins');
  await makeClassifierPackage(plugins, { version: '1.0.0', model: 'v1' });
  await makeClassifierPackage(plugins, { version: '2.0.0', model: 'v2' });
  const api = newRegistry({ store, bus, processId: 'api' });
  const worker = newRegistry({ store, bus, processId: 'worker', packagesDir: join(work, 'store-w') });
  await api.start([plugins]);
  await worker.start([plugins]);
  return { api, worker, plugins };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

describe('ModelRegistry: load, run, place', () => {
  it('installs a package, activates it and answers through leases, counting stats', async () => {
    const r = newRegistry();
    const events = recordEvents(r);
    const info = await r.install(await makeClassifierPackage(join(work, 'plugins')), {
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
      const info = await r.install(await makeClassifierPackage(join(work, 'plugins'), { devices: [device] }), {
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

describe('ModelRegistry: uploads, discovery, watching, other processes', () => {
  it('keeps an uploaded archive under packagesDir, and refuses the same version again leaving nothing behind', async () => {
    const r = newRegistry();
    const dir = await makeClassifierPackage(join(work, 'src'));
    const { outFile } = await packPackage(dir, join(work, 'upload.tar.gz'));
    const info = await r.install(outFile, { activate: true });
    expect(info.packageDir).toBe(join(work, 'store', NAME, '1.0.0'));
    expect((await readdir(info.packageDir)).sort()).toEqual(['MODEL_CARD.md', 'golden', 'manifest.json', 'model.onnx']);
    await expect(r.install(outFile)).rejects.toMatchObject({ code: 'CONFLICT', check: 'version.exists' });
    await expect(r.install(dir)).rejects.toMatchObject({ code: 'CONFLICT', check: 'version.exists' });
    expect(await readdir(join(work, 'store', '.incoming'))).toEqual([]);
    expect(await readdir(join(work, 'store'))).toEqual(['.incoming', NAME]);
    expect(r.activeVersion(NAME)).toBe('1.0.0');
  });

  it('refuses a hostile upload without recording anything', async () => {
    const store = new InMemoryRegistryStore();
    const r = newRegistry({ store });
    const events = recordEvents(r);
    const dir = await makeClassifierPackage(join(work, 'src'), {
      edit: (m) => (m.outputs = [{ name: 'probs', role: 'logits' }]),
    });
    const { outFile } = await packPackage(dir, join(work, 'bad.zip'));
    await expect(r.install(outFile, { activate: true })).rejects.toMatchObject({
      check: 'onnx.io',
      field: 'outputs[0].name',
    });
    expect(r.list()).toEqual([]);
    expect(await store.getVersion(NAME, '1.0.0')).toBeNull();
    expect(await readdir(join(work, 'store', '.incoming'))).toEqual([]);
    expect(existsSync(join(work, 'store', NAME))).toBe(false);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'failed',
        name: NAME,
        version: '1.0.0',
        message: expect.stringMatching(/^onnx\.io: /),
      }),
    ]);
    // A package refused before its manifest is read has no name to report.
    await writeFile(join(work, 'junk.zip'), 'not an archive');
    await expect(r.install(join(work, 'junk.zip'))).rejects.toMatchObject({ check: 'archive.type' });
    expect(events.at(-1)).toMatchObject({ type: 'failed', name: null, version: null });
  });

  it('discovers plugins at start, activating the highest version, or the one the store says is active', async () => {
    const plugins = join(work, 'plugins');
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
    const later = new ModelRegistry({ packagesDir: join(work, 'store2'), store: store });
    registries.push(later);
    await later.start([plugins]);
    expect(later.activeVersion(NAME)).toBe('1.0.0');
  });

  it('MODEL_WATCH: a new version folder is validated and loaded, activated only when its manifest says so', async () => {
    const plugins = join(work, 'plugins');
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
    const uploaded = await makeClassifierPackage(join(work, 'src'), { version: '3.0.0', model: 'v2' });
    await api.install(uploaded, { activate: true });
    await until(() => worker.activeVersion(NAME) === '3.0.0');
    await api.unload(NAME, '3.0.0');
    await until(() => worker.activeVersion(NAME) === null);
  });
});

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
    const pkgs = join(work, 'plugins');
    await a.install(await makeClassifierPackage(pkgs, { version: '1.0.0', model: 'v1' }), { activate: true });
    await a.install(await makeClassifierPackage(pkgs, { version: '2.0.0', model: 'v2' }), { activate: true });
    await a.install(await makeClassifierPackage(pkgs, { version: '3.0.0', model: 'v1' }), { activate: true });
    await a.close();
    // A process started after those activations: it never saw them happen.
    const b = newRegistry({ store, packagesDir: join(work, 'store-b') });
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
