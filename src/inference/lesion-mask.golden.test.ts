/**
 * Hand-checked failure cases of the shipped segmenters on real ISIC images, as golden tests of the
 * serving path (segmentLesion: the two-member ensemble, then the post-processing). Each case was
 * looked at on overlays of the mask before and after the post-processing (docs/inference.md,
 * "Post-processing"); the assertions fix what was seen.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { thresholdMap } from './ensemble';
import { labelComponents } from './mask-components';
import { maskArea, overlap } from './mask-metrics';
import { decodeAndResize, rgbToTensor, type InputSpec } from './preprocess';
import { decodeRgb } from './render';
import { segmentLesion, type MemberMask } from './segmentation-maps';

const ROOT = path.join(__dirname, '../..');
const ISIC = path.join(ROOT, 'datasets/isic-uda1/images');
const MODELS = ['dg-seg-stats', 'dg-seg-skin-distance'];
/** Each model's own input spec, from its manifest (the server prepares its input the same way). */
const specOf = (m: string) =>
  (JSON.parse(fs.readFileSync(path.join(ROOT, 'plugins', m, 'manifest.json'), 'utf8')) as { input: InputSpec }).input;
const present = MODELS.every((m) => fs.existsSync(path.join(ROOT, 'plugins', m, 'model.onnx')));

(present ? describe : describe.skip)('segmentation post-processing on hand-checked real cases', () => {
  let sessions: ort.InferenceSession[];
  beforeAll(async () => {
    sessions = await Promise.all(
      MODELS.map((m) => ort.InferenceSession.create(path.join(ROOT, 'plugins', m, 'model.onnx'))),
    );
  });
  afterAll(async () => Promise.all(sessions.map((s) => s.release())));

  /** The ensemble (weights 1:1, threshold 0.5) as the server runs it, and the bare thresholded mean. */
  async function segment(name: string) {
    const file = path.join(ISIC, `${name}.jpg`);
    const image = await decodeRgb(file);
    const members: MemberMask[] = [];
    for (const [i, s] of sessions.entries()) {
      const spec = specOf(MODELS[i]);
      const tensor = rgbToTensor((await decodeAndResize(file, spec)).data, spec);
      const out = await s.run({ input: new ort.Tensor('float32', tensor, [1, 3, spec.height, spec.width]) });
      const fit = { mode: spec.resize ?? 'fill', modelWidth: spec.width, modelHeight: spec.height };
      members.push({
        output: out.mask.data as Float32Array,
        width: spec.width,
        height: spec.height,
        activation: 'none',
        fit,
      });
    }
    const r = segmentLesion(members, [1, 1], 0.5, image);
    const n = image.width * image.height;
    const outsideField = r.field.detected ? r.mask.filter((v, i) => v && !r.field.mask[i]).length : 0;
    return {
      r,
      n,
      width: image.width,
      bare: thresholdMap(r.probability, 0.5),
      pieces: labelComponents(r.mask, image.width, image.height).count,
      outsideField,
      areaPercent: (100 * maskArea(r.mask)) / n,
    };
  }

  it('ISIC_0000290: the black surround (marked as lesion before) is left out', async () => {
    const s = await segment('ISIC_0000290');
    expect(s.r.field.detected).toBe(true);
    expect((100 * maskArea(s.bare)) / s.n).toBeGreaterThan(50); // before: 55 % of the image, surround included
    expect(s.outsideField).toBe(0);
    expect(s.areaPercent).toBeLessThan(40);
    expect(s.r.mask[0]).toBe(0);
  });

  it('ISIC_0000170: the black band at the top (a piece of its own before) is gone', async () => {
    const s = await segment('ISIC_0000170');
    expect(s.r.field.detected).toBe(true);
    expect(labelComponents(s.bare, s.width, s.n / s.width).count).toBeGreaterThan(1);
    expect(s.pieces).toBe(1);
    expect(s.outsideField).toBe(0);
    expect(s.r.mask.subarray(0, 25 * s.width).some((v) => v)).toBe(false);
    expect(s.r.touchesBorder).toBe(false);
  });

  it.each(['ISIC_0000274', 'ISIC_0000286'])('%s: the vignette arcs at the sides are dropped', async (name) => {
    const s = await segment(name);
    expect(s.r.field.detected).toBe(true);
    expect(s.outsideField).toBe(0);
    expect(s.pieces).toBe(1);
  });

  it('ISIC_0000245: no surround; the two central pieces stay, the fragments on the right edge go', async () => {
    const s = await segment('ISIC_0000245');
    expect(s.r.field.detected).toBe(false);
    expect(labelComponents(s.bare, s.width, s.n / s.width).count).toBeGreaterThanOrEqual(4);
    expect(s.pieces).toBe(2);
    expect(s.r.touchesBorder).toBe(false);
  });

  it('ISIC_0000150 and ISIC_0000330: a clean image keeps its mask nearly as it was', async () => {
    for (const name of ['ISIC_0000150', 'ISIC_0000330']) {
      const s = await segment(name);
      expect(s.r.field.detected).toBe(false);
      expect(overlap(s.r.mask, s.bare).dice).toBeGreaterThan(0.97);
    }
  });

  it('ISIC_0000310: a lesion filling the view reaches the image edge and says so', async () => {
    const s = await segment('ISIC_0000310');
    expect(s.r.touchesBorder).toBe(true);
    expect(s.areaPercent).toBeGreaterThan(50);
  });
});
