import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../paths';
import { ModelRegistry } from '../models-registry';
import { imageToTensor } from '../inference/preprocess';
import { DynamicBatcher, splitOutputs } from './batcher';
import * as ort from 'onnxruntime-node';

const IMAGES = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'].map((n) => join(projectRoot, 'datasets/isic-uda1/images', `${n}.jpg`));
let registry: ModelRegistry;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dg-batcher-'));
  registry = new ModelRegistry({ packagesDir: join(work, 'store') });
  await registry.start([join(projectRoot, 'plugins')]);
}, 60_000);

afterAll(async () => {
  await registry.close();
  await rm(work, { recursive: true, force: true });
});

describe('splitOutputs', () => {
  it('slices every output per image with the batch axis set to 1', () => {
    const out = { a: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]) } as unknown as ort.InferenceSession.ReturnType;
    expect(splitOutputs(out, 3).map((o) => [Array.from(o.a.data), o.a.dims])).toEqual([[[1, 2], [1, 2]], [[3, 4], [1, 2]], [[5, 6], [1, 2]]]);
    expect(() => splitOutputs(out, 2)).toThrow(/batch 3, expected 2/);
  });
});

describe('DynamicBatcher on a real session (dg-gap-classifier)', () => {
  it('runs a lone image at once, batches images that arrive while the session is busy, and returns each image exactly its own outputs', async () => {
    const lease = registry.acquire('dg-gap-classifier');
    try {
      const m = lease.manifest;
      const spec = { inputName: m.input.name, layout: m.input.layout, width: m.input.width, height: m.input.height, outputs: m.outputs.map((o) => o.name) };
      const tensors = await Promise.all(IMAGES.map(async (p) => (await imageToTensor(p, m.input)).tensor));
      const alone = new DynamicBatcher(8, 1000, spec, 1);
      const singles: Awaited<ReturnType<DynamicBatcher['run']>>[] = [];
      for (const t of tensors) singles.push(await alone.run(lease, t)); // one at a time: never waits for the 1 s delay
      expect(alone.stats).toEqual({ batches: 4, images: 4, largest: 1 });

      const busy = new DynamicBatcher(8, 1000, spec, 1);
      const inputs = Array.from({ length: 12 }, (_, i) => tensors[i % 4]);
      const outs = await Promise.all(inputs.map((t) => busy.run(lease, t)));
      // The first image ran alone; the 11 that queued behind it went as a full batch of 8, then 3.
      expect(busy.stats).toEqual({ batches: 3, images: 12, largest: 8 });
      outs.forEach((o, i) => {
        const ref = singles[i % 4];
        expect(o.logits.dims).toEqual([1, 2]);
        Array.from(o.logits.data).forEach((v, k) => expect(v).toBeCloseTo(ref.logits.data[k], 4));
        expect(o.features.data.length).toBe(ref.features.data.length);
      });
    } finally {
      lease.release();
    }
  }, 60_000);
});
