import * as ort from 'onnxruntime-node';
import sharp from '../../inference/sharp';
import { batchShape, imageToTensor } from '../../inference/preprocess';
import { activate } from '../../inference/softmax';
import { packagePath } from './extract';
import type { Manifest } from './manifest';
import { packageError } from '../errors';
import { handOver, type ModelSession } from '../runtime/threaded-session';

/** Runs one batch of preprocessed images (each a tensor of one image) and returns the manifest's outputs. */
export async function runBatch(
  session: ModelSession,
  m: Manifest,
  images: Float32Array[],
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const per = m.input.width * m.input.height * 3;
  const data = new Float32Array(per * images.length);
  images.forEach((t, i) => data.set(t, i * per));
  const feeds = { [m.input.name]: new ort.Tensor('float32', handOver(data), batchShape(images.length, m.input)) };
  return session.run(
    feeds,
    m.outputs.map((o) => o.name),
  );
}

/** One inference on a blank image: pays the first-run costs and proves the device can run the graph. */
export async function warmUp(session: ModelSession, m: Manifest): Promise<void> {
  await runBatch(session, m, [new Float32Array(m.input.width * m.input.height * 3)]);
}

export interface GoldenResult {
  index: number;
  image: string;
  ok: boolean;
  /** Classification: the probabilities got. */
  probabilities?: number[];
  /** Segmentation: IoU with the expected mask. */
  iou?: number;
  detail: string;
}

/** Intersection over union of two binary masks; two empty masks agree perfectly. */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** Classification: the output row for image `i` turned into probabilities per the manifest. */
export function probabilitiesOf(out: ort.Tensor, m: Manifest, i = 0): number[] {
  const n = out.dims[1];
  const row = (out.data as Float32Array).subarray(i * n, (i + 1) * n);
  return activate(row, m.postprocess.activation);
}

/** Segmentation: the output mask for image `i`, thresholded (1 = lesion). */
export function binaryMaskOf(out: ort.Tensor, m: Manifest, i = 0): { mask: Uint8Array; width: number; height: number } {
  const [, , height, width] = out.dims;
  const plane = width * height;
  const values = activate((out.data as Float32Array).subarray(i * plane, (i + 1) * plane), m.postprocess.activation);
  const t = m.postprocess.maskThreshold ?? 0.5;
  return { mask: Uint8Array.from(values, (v) => (v >= t ? 1 : 0)), width, height };
}

/** Runs every golden case of a package (in `dir`) on `session`; returns each result, passing or not. */
export async function runGoldenCases(session: ModelSession, m: Manifest, dir: string): Promise<GoldenResult[]> {
  const results: GoldenResult[] = [];
  for (const [index, g] of m.goldenCases.entries()) {
    const { tensor } = await imageToTensor(packagePath(dir, g.image), m.input);
    const outputs = await runBatch(session, m, [tensor]);
    if ('expected' in g) {
      const score = m.outputs.find((o) => o.role === 'logits' || o.role === 'probabilities')!;
      const got = probabilitiesOf(outputs[score.name], m);
      const diff = Math.max(...got.map((p, k) => Math.abs(p - (g.expected.probabilities[k] ?? NaN))));
      const ok = got.length === g.expected.probabilities.length && diff <= g.tolerance;
      const fmt = (xs: number[]) => `[${xs.map((x) => x.toFixed(4)).join(', ')}]`;
      results.push({
        index,
        image: g.image,
        ok,
        probabilities: got,
        detail: `got ${fmt(got)}, expected ${fmt(g.expected.probabilities)} ± ${g.tolerance}`,
      });
    } else {
      const maskOut = m.outputs.find((o) => o.role === 'mask')!;
      const got = binaryMaskOf(outputs[maskOut.name], m);
      // flatten drops any alpha channel, so the raw buffer has one byte per pixel.
      const { data, info } = await sharp(packagePath(dir, g.expectedMask))
        .flatten()
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.width !== got.width || info.height !== got.height) {
        results.push({
          index,
          image: g.image,
          ok: false,
          detail: `expected mask is ${info.width}x${info.height}, the model's mask is ${got.width}x${got.height}`,
        });
        continue;
      }
      const expected = Uint8Array.from(data, (v) => (v >= 128 ? 1 : 0));
      const iou = maskIoU(got.mask, expected);
      results.push({
        index,
        image: g.image,
        ok: iou >= g.minIoU,
        iou,
        detail: `IoU ${iou.toFixed(4)}, at least ${g.minIoU} expected`,
      });
    }
  }
  return results;
}

/** Runs the golden cases and refuses the package at the first one that fails. */
export async function assertGoldenCases(
  session: ModelSession,
  m: Manifest,
  dir: string,
  device: string,
): Promise<GoldenResult[]> {
  const results = await runGoldenCases(session, m, dir);
  const bad = results.find((r) => !r.ok);
  if (bad)
    throw packageError(
      'golden',
      `case ${bad.index} (${bad.image}) fails on ${device}: ${bad.detail}`,
      `goldenCases[${bad.index}]`,
    );
  return results;
}
