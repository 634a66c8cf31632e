import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../../infra/paths';
import { ModelRegistry } from '../../../models-registry';
import { decodeAndResize, imageToTensor, batchShape } from '../../../inference/preprocess';
import { DynamicBatcher, splitOutputs } from './batcher';
import * as ort from 'onnxruntime-node';

const IMAGES = ['ISIC_0000150', 'ISIC_0000151', 'ISIC_0000153', 'ISIC_0000154'].map((n) =>
  join(projectRoot, 'datasets/isic-uda1/images', `${n}.jpg`),
);
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
    const out = {
      a: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]),
    } as unknown as ort.InferenceSession.ReturnType;
    expect(splitOutputs(out, 3).map((o) => [Array.from(o.a.data), o.a.dims])).toEqual([
      [
        [1, 2],
        [1, 2],
      ],
      [
        [3, 4],
        [1, 2],
      ],
      [
        [5, 6],
        [1, 2],
      ],
    ]);
    expect(() => splitOutputs(out, 2)).toThrow(/batch 3, expected 2/);
  });
});

describe('DynamicBatcher on a real session (dg-gap-classifier)', () => {
  it('runs a lone image at once, batches images that arrive while the session is busy, and returns each image exactly its own outputs', async () => {
    const lease = registry.acquire('dg-gap-classifier');
    try {
      const m = lease.manifest;
      const spec = { inputName: m.input.name, input: m.input, outputs: m.outputs.map((o) => o.name) };
      const pixels = await Promise.all(IMAGES.map(async (p) => (await decodeAndResize(p, m.input)).data));
      const alone = new DynamicBatcher(8, 1000, spec, 1);
      const singles: Awaited<ReturnType<DynamicBatcher['run']>>[] = [];
      for (const p of pixels) singles.push(await alone.run(lease, p)); // one at a time: never waits for the 1 s delay
      expect(alone.stats).toEqual({ batches: 4, images: 4, largest: 1 });
      // Normalised in the batcher, the input is the tensor imageToTensor makes.
      for (const [i, p] of IMAGES.entries()) {
        const { tensor } = await imageToTensor(p, m.input);
        const direct = await lease.run(
          { [m.input.name]: new ort.Tensor('float32', tensor, batchShape(1, m.input)) },
          spec.outputs,
        );
        expect(Array.from(singles[i].logits.data)).toEqual(Array.from(direct.logits.data as Float32Array));
      }

      const busy = new DynamicBatcher(8, 1000, spec, 1);
      const inputs = Array.from({ length: 12 }, (_, i) => pixels[i % 4]);
      const outs = await Promise.all(inputs.map((p) => busy.run(lease, p)));
      // The first image ran alone; the 11 that queued behind it went as a full batch of 8, then 3
      // (in a buffer the session's thread gave back after the first run).
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
