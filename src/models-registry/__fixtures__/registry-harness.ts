/**
 * Shared set-up of the ModelRegistry tests (registry*.test.ts): a fresh work folder per test,
 * registries closed after it, and the fixture classifiers' reference answers.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  IMAGES,
  makeClassifierPackage,
  referenceProbabilities,
  tempDir,
  tensorOf,
  type ClassifierVersion,
} from '../../../test/fixtures/models/packages';
import { softmax } from '../../inference/softmax';
import type { RegistryEvent } from '../catalogue/events';
import { ModelRegistry, type ModelRegistryOptions } from '../registry';
import type { ModelLease } from '../runtime/leases';
import { InMemoryRegistryBus } from '../sync/bus';
import { InMemoryRegistryStore } from '../sync/store';

export const NAME = 'tiny-classifier';
/** Version -> the fixture model inside it (v1 leans benign, v2 malignant). */
export const MODEL_OF: Record<string, ClassifierVersion> = { '1.0.0': 'v1', '2.0.0': 'v2' };

/** Classifies one image through a lease and returns the probabilities. */
export async function classify(lease: ModelLease, image: string): Promise<number[]> {
  const t = await tensorOf(image);
  const out = await lease.run({ input: new ort.Tensor('float32', t, [1, 3, 32, 32]) });
  return softmax(out.logits.data as Float32Array);
}

export function recordEvents(r: ModelRegistry): RegistryEvent[] {
  const events: RegistryEvent[] = [];
  r.onEvent((e) => events.push(e));
  return events;
}

export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

/** Registers the jest hooks of a registry test file; returns the helpers bound to the current test's work folder. */
export function registryHarness() {
  let references: Map<string, number[]>; // `${image}|${model}` -> expected probabilities
  const h = {
    /** The current test's work folder. */
    work: '',
    /** Closed after the test. */
    registries: [] as ModelRegistry[],

    newRegistry(opts: Partial<ModelRegistryOptions> = {}): ModelRegistry {
      const r = new ModelRegistry({ packagesDir: join(h.work, 'store'), ...opts });
      h.registries.push(r);
      return r;
    },

    expectAnswerOf(got: number[], image: string, model: ClassifierVersion): void {
      const want = references.get(`${image}|${model}`)!;
      got.forEach((p, i) => expect(Math.abs(p - want[i])).toBeLessThan(1e-4));
    },

    /** Both versions installed from folders, 1.0.0 active. */
    async twoVersions(r: ModelRegistry): Promise<void> {
      const pkgs = join(h.work, 'plugins');
      await r.install(await makeClassifierPackage(pkgs, { version: '1.0.0', model: 'v1' }), { activate: true });
      await r.install(await makeClassifierPackage(pkgs, { version: '2.0.0', model: 'v2' }));
    },

    /** Two processes ("api" and "worker") sharing a store and a bus, both started on plugins with 1.0.0 and 2.0.0. */
    async twoProcesses(): Promise<{ api: ModelRegistry; worker: ModelRegistry; plugins: string }> {
      const [store, bus] = [new InMemoryRegistryStore(), new InMemoryRegistryBus()];
      const plugins = join(h.work, 'plugins');
      await makeClassifierPackage(plugins, { version: '1.0.0', model: 'v1' });
      await makeClassifierPackage(plugins, { version: '2.0.0', model: 'v2' });
      const api = h.newRegistry({ store, bus, processId: 'api' });
      const worker = h.newRegistry({ store, bus, processId: 'worker', packagesDir: join(h.work, 'store-w') });
      await api.start([plugins]);
      await worker.start([plugins]);
      return { api, worker, plugins };
    },
  };

  beforeAll(async () => {
    references = new Map();
    for (const img of IMAGES)
      for (const m of ['v1', 'v2'] as const)
        references.set(`${img}|${m}`, referenceProbabilities(await tensorOf(img), m));
  });
  beforeEach(async () => {
    h.work = await tempDir();
    h.registries = [];
  });
  afterEach(async () => {
    for (const r of h.registries) await r.close();
    await rm(h.work, { recursive: true, force: true });
  });
  return h;
}
