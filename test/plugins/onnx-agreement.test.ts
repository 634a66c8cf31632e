/**
 */
/**
 * PyTorch and onnxruntime-node agree on the shipped classifiers: the reference inputs and outputs
 * written by training/train_classifier.py (PyTorch, the trained weights) are run through the ONNX
 * file as one batch (which also exercises the dynamic batch axis) and compared to 1e-4.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PluginRunner } from '../../scripts/plugin-runner';
import { CLASSIFIERS, decodeF32, maxAbsDiff, PLUGIN_ROOT } from './shipped';

interface Reference {
  imageId: string;
  input: string;
  logits: number[];
  featureShape: [number, number, number];
  features: string;
}

const FIXTURES = path.join(__dirname, '../fixtures/gradcam');

describe.each(CLASSIFIERS)('%s: PyTorch vs onnxruntime-node', (name) => {
  const refs: Reference[] = readdirSync(path.join(FIXTURES, name))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(FIXTURES, name, f), 'utf8')) as Reference);
  let runner: PluginRunner;
  beforeAll(async () => {
    runner = await PluginRunner.open(path.join(PLUGIN_ROOT, name));
  });
  afterAll(() => runner.release());

  it('has at least two reference tensors', () => {
    expect(refs.length).toBeGreaterThanOrEqual(2);
  });

  it('gives the same logits and feature maps to 1e-4 for a batch of the reference tensors', async () => {
    const out = await runner.runTensors(refs.map((r) => decodeF32(r.input)));
    const logits = out.logits.data as Float32Array;
    const features = out.features.data as Float32Array;
    const [c, h, w] = refs[0].featureShape;
    expect(out.features.dims).toEqual([refs.length, c, h, w]);
    refs.forEach((r, i) => {
      expect(maxAbsDiff(logits.subarray(i * 2, i * 2 + 2), r.logits)).toBeLessThan(1e-4);
      expect(maxAbsDiff(features.subarray(i * c * h * w, (i + 1) * c * h * w), decodeF32(r.features))).toBeLessThan(1e-4);
    });
  });

  it('makes the same input tensor from the image as the exported training tensors did', async () => {
    const r = refs[0];
    const t = await runner.tensor(path.join(__dirname, '../../datasets/isic-uda1/images', `${r.imageId}.jpg`));
    expect(maxAbsDiff(t, decodeF32(r.input))).toBe(0);
  });
});
