/**
 */
/**
 * The shipped plugin folders are what their manifests say: every file hashed, single-file ONNX under
 * 20 MB, inputs/outputs named as declared, a dynamic batch axis, and golden cases that reproduce through
 * the TypeScript path (preprocess.ts + onnxruntime-node).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { PluginRunner, readManifest, type PluginManifest } from '../../scripts/plugin-runner';
import { CLASSIFIERS, PLUGIN_ROOT, SEGMENTERS, shippedPlugins } from './shipped';

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, base) : [path.relative(base, p).split(path.sep).join('/')];
  });
}

it('ships the two classifiers and the two segmenters', () => {
  expect(shippedPlugins()).toEqual(expect.arrayContaining([...CLASSIFIERS, ...SEGMENTERS]));
});

describe.each([...CLASSIFIERS, ...SEGMENTERS])('%s', (name) => {
  const dir = path.join(PLUGIN_ROOT, name);
  let manifest: PluginManifest;
  let runner: PluginRunner;
  beforeAll(async () => {
    manifest = await readManifest(dir);
    runner = await PluginRunner.open(dir);
  });
  afterAll(() => runner.release());

  it('lists every file but manifest.json with its sha256, and nothing else', () => {
    const onDisk = filesUnder(dir).filter((f) => f !== 'manifest.json').sort();
    expect(Object.keys(manifest.files).sort()).toEqual(onDisk);
    for (const f of onDisk) {
      expect([f, createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')]).toEqual([f, manifest.files[f]]);
    }
    expect(onDisk).toEqual(expect.arrayContaining(['model.onnx', 'MODEL_CARD.md']));
    expect(onDisk.some((f) => f.endsWith('.data'))).toBe(false);
  });

  it('keeps the ONNX file under 20 MB', () => {
    expect(statSync(path.join(dir, manifest.modelFile)).size).toBeLessThan(20 * 1024 * 1024);
  });

  it('names its input and outputs as the manifest declares', () => {
    expect(runner.session.inputNames).toEqual([manifest.input.name]);
    expect([...runner.session.outputNames].sort()).toEqual(manifest.outputs.map((o) => o.name).sort());
  });

  it('accepts any batch size (dynamic axis 0): a batch of 3 gives 3 rows equal to single runs', async () => {
    const images = Object.keys(manifest.files).filter((f) => f.endsWith('.jpg')).map((f) => path.join(dir, f));
    const tensors = await Promise.all([images[0], images[1], images[0]].map((i) => runner.tensor(i)));
    const batch = await runner.runTensors(tensors);
    const single = await runner.runTensors([tensors[1]]);
    for (const o of manifest.outputs) {
      expect(batch[o.name].dims[0]).toBe(3);
      const per = (batch[o.name].data as Float32Array).length / 3;
      const row = (batch[o.name].data as Float32Array).subarray(per, 2 * per);
      const one = single[o.name].data as Float32Array;
      let diff = 0;
      for (let i = 0; i < per; i++) diff = Math.max(diff, Math.abs(row[i] - one[i]));
      expect(diff).toBeLessThan(1e-4);
    }
  });

  it('reproduces its golden cases through preprocess.ts + onnxruntime-node', async () => {
    expect(manifest.goldenCases?.length).toBeGreaterThanOrEqual(1);
    for (const g of manifest.goldenCases ?? []) {
      if ('expected' in g) {
        const probs = (await runner.classify([path.join(dir, g.image)]))[0];
        probs.forEach((p, i) => expect(Math.abs(p - g.expected.probabilities[i])).toBeLessThanOrEqual(g.tolerance));
      } else {
        const { mask, width, height } = await runner.segment(path.join(dir, g.image));
        const { data, info } = await sharp(path.join(dir, g.expectedMask)).greyscale().raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height]).toEqual([width, height]);
        let inter = 0;
        let union = 0;
        mask.forEach((v, i) => {
          const a = v >= (manifest.postprocess.maskThreshold ?? 0.5);
          const b = data[i] >= 128;
          inter += a && b ? 1 : 0;
          union += a || b ? 1 : 0;
        });
        expect(union).toBeGreaterThan(0);
        expect(inter / union).toBeGreaterThanOrEqual(g.minIoU);
      }
    }
  });
});

describe.each(SEGMENTERS)('%s mask output', (name) => {
  it('is a probability in [0, 1] of shape N x 1 x H x W', async () => {
    const runner = await PluginRunner.open(path.join(PLUGIN_ROOT, name));
    try {
      const m = runner.manifest;
      const out = await runner.runTensors([await runner.tensor(path.join(PLUGIN_ROOT, name, m.goldenCases![0].image))]);
      const t = out[m.outputs[0].name];
      expect(t.dims).toEqual([1, 1, m.input.height, m.input.width]);
      const data = t.data as Float32Array;
      expect(Math.min(...data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...data)).toBeLessThanOrEqual(1);
    } finally {
      await runner.release();
    }
  });
});
