/**
 * The pure inference layer end to end on the shipped models and a real ISIC image: classify with
 * Grad-CAM and render the overlay; segment with a two-member ensemble at the image's own
 * resolution, measure, grade and render. Checks invariants that must hold whatever the weights.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { decodeF32 } from './__fixtures__/load';
import { camToImage } from './cam-map';
import { summariseClassification } from './classification';
import { gradCam, loadGradCamHead } from './gradcam';
import { maskMetrics, greyFromRgb } from './mask-metrics';
import { imageToTensor, type InputSpec } from './preprocess';
import { decodeMask, decodeRgb, heatmapOverlayPng, maskPng, probabilityPng, segmentationOverlayPng } from './render';
import { ensembleSegmentation } from './segmentation-maps';
import { severity } from './severity';
import { softmax } from './softmax';

/** The configuration's default cut points (SEVERITY_* in src/infra/config/env.ts). */
const SEVERITY = { smallAreaPercent: 5, largeAreaPercent: 20, highCircularity: 0.75, lowCircularity: 0.45 };

const ROOT = path.join(__dirname, '../..');
const plugin = (name: string) => path.join(ROOT, 'plugins', name, 'model.onnx');
const classifierSpec: InputSpec = {
  layout: 'NCHW',
  width: 128,
  height: 128,
  colorOrder: 'RGB',
  scale: 1 / 255,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  resize: 'fill',
};
const segmenterSpec: InputSpec = { ...classifierSpec, mean: [0, 0, 0], std: [1, 1, 1] };
const REF = path.join(ROOT, 'test/fixtures/gradcam/dg-mlp-classifier/ISIC_0000150.json');
const haveAll = [REF, plugin('dg-mlp-classifier'), plugin('dg-seg-stats'), plugin('dg-seg-skin-distance')].every((f) =>
  fs.existsSync(f),
);

/**
 * ISIC_0000150 as a 250 x 200 JPEG: the reference's input tensor un-normalised back to its
 * 128 x 128 bytes, then enlarged so the image's resolution differs from the models'.
 */
async function isicImage(): Promise<Buffer> {
  const t = decodeF32((JSON.parse(fs.readFileSync(REF, 'utf8')) as { input: string }).input);
  const plane = 128 * 128;
  const rgb = Buffer.alloc(plane * 3);
  for (let p = 0; p < plane; p++)
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round((t[c * plane + p] * 0.25 + 0.5) * 255);
  return sharp(rgb, { raw: { width: 128, height: 128, channels: 3 } })
    .resize(250, 200, { fit: 'fill' })
    .jpeg({ quality: 95 })
    .toBuffer();
}

(haveAll ? describe : describe.skip)('inference layer on shipped models and a real image', () => {
  let bytes: Buffer;
  beforeAll(async () => {
    bytes = await isicImage();
  });

  it('classifies with Grad-CAM and renders the overlay at the image size', async () => {
    const session = await ort.InferenceSession.create(plugin('dg-mlp-classifier'));
    try {
      const { tensor } = await imageToTensor(bytes, classifierSpec);
      const out = await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, 128, 128]) });
      const probs = softmax(out.logits.data as Float32Array);
      const summary = summariseClassification(probs, ['benign', 'malignant'], ['malignant'], 0.5);
      expect(summary.confidence).toBeGreaterThanOrEqual(0.5);

      const plan = loadGradCamHead(fs.readFileSync(plugin('dg-mlp-classifier')), 'features', 'logits');
      if (!plan.differentiable) throw new Error(plan.reason);
      const [, channels, height, width] = out.features.dims;
      const cam = gradCam(plan.head, { data: out.features.data as Float32Array, channels, height, width });
      expect(cam.targetClass).toBe(probs.indexOf(Math.max(...probs)));
      cam.logits.forEach((l, i) => expect(l).toBeCloseTo((out.logits.data as Float32Array)[i], 4));

      const image = await decodeRgb(bytes);
      const map = camToImage(cam.cam, width, height, image.width, image.height);
      const png = await sharp(await heatmapOverlayPng(image, map, image.width, image.height, 0.5)).metadata();
      expect([png.width, png.height, png.format]).toEqual([250, 200, 'png']);
    } finally {
      await session.release();
    }
  });

  it('segments with a two-member ensemble, measures, grades and renders', async () => {
    const image = await decodeRgb(bytes);
    const { tensor } = await imageToTensor(bytes, segmenterSpec);
    const members = [];
    for (const name of ['dg-seg-stats', 'dg-seg-skin-distance']) {
      const session = await ort.InferenceSession.create(plugin(name));
      const out = await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, 128, 128]) });
      members.push({ output: out.mask.data as Float32Array, width: 128, height: 128, activation: 'none' as const });
      await session.release();
    }
    const { probability, mask } = ensembleSegmentation(members, [2, 1], 0.5, image.width, image.height);
    expect(mask.length).toBe(250 * 200);

    const m = maskMetrics(mask, image.width, image.height, greyFromRgb(image.data));
    expect(m.areaPixels).toBeGreaterThan(0);
    expect(m.areaPercent).toBeLessThan(100);
    expect(m.circularity).toBeGreaterThan(0);
    expect(m.circularity).toBeLessThanOrEqual(1);
    expect(['LOW', 'MODERATE', 'HIGH']).toContain(severity(m.areaPercent, m.circularity, SEVERITY));

    // the mask PNG decodes to the same mask, so metrics recomputed from storage agree
    const back = await decodeMask(await maskPng(mask, image.width, image.height), image.width, image.height);
    expect(Buffer.from(back)).toEqual(Buffer.from(mask));
    const prob = await sharp(await probabilityPng(probability, image.width, image.height)).metadata();
    expect([prob.width, prob.height, prob.channels]).toEqual([250, 200, 1]);

    const overlay = await decodeRgb(await segmentationOverlayPng(image, mask, 0.4));
    for (let p = 0; p < mask.length; p += 97) {
      if (!mask[p])
        expect(Array.from(overlay.data.subarray(p * 3, p * 3 + 3))).toEqual(
          Array.from(image.data.subarray(p * 3, p * 3 + 3)),
        );
    }
    console.log(
      `ISIC_0000150 (250x200), ensemble 2:1 at 0.5: area ${m.areaPixels} px (${m.areaPercent.toFixed(2)}%), perimeter ${m.perimeterPixels.toFixed(1)}, circularity ${m.circularity.toFixed(3)}, mean ${m.meanIntensity.toFixed(1)} ± ${m.stdIntensity.toFixed(1)}, severity ${severity(m.areaPercent, m.circularity, SEVERITY)}`,
    );
  });
});
