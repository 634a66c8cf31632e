/**
 * Score-CAM (Wang et al., CVPR-W 2020): the gradient-free fallback for heads Grad-CAM cannot
 * differentiate. Each activation channel A_k, upsampled to the input and min-max scaled to
 * [0, 1], masks the (normalised) input tensor; the model's softmax probability of the target
 * class on that masked input is the channel's weight; cam = ReLU(sum_k w_k A_k).
 * (pytorch-grad-cam's ScoreCAM instead softmaxes the raw logits across channels; this follows
 * the paper.) It costs one forward pass per channel, run in batches.
 */
import { checkFeatureMap, type FeatureMap, normaliseUnit, resizeBilinear, weightedChannelSum } from './cam-map';
import type { CamResult } from './gradcam';
import { resolveTargetClass } from './gradcam';
import { softmax } from './softmax';

/** Runs the model on `n` input tensors laid end to end and returns their logits, n x K row-major. */
export type RunLogits = (batch: Float32Array, n: number) => Promise<ArrayLike<number>>;

export interface ScoreCamOptions {
  /** The image's normalised input tensor (no batch axis), as fed to the model. */
  input: Float32Array;
  layout: 'NCHW' | 'NHWC';
  width: number;
  height: number;
  runLogits: RunLogits;
  /** Default: the class with the highest logit on the unmasked input. */
  targetClass?: number;
  /** Logits of the unmasked input when the caller has them already (saves one run). */
  logits?: ArrayLike<number>;
  /** Masked inputs per model call (default 16, as pytorch-grad-cam). */
  batchSize?: number;
}

/** Channel k of A, upsampled to the input size and scaled to [0, 1] (a flat channel gives all zeros). */
export function channelMask(fm: FeatureMap, k: number, width: number, height: number): Float32Array {
  const plane = fm.width * fm.height;
  const channel = Array.from({ length: plane }, (_, p) => fm.data[k * plane + p]);
  return normaliseUnit(resizeBilinear(channel, fm.width, fm.height, width, height));
}

/** input * mask, the mask broadcast over the colour channels, written into `out` at `offset`. */
export function applyMask(
  input: Float32Array,
  mask: Float32Array,
  layout: 'NCHW' | 'NHWC',
  out: Float32Array,
  offset: number,
): void {
  const plane = mask.length;
  const channels = input.length / plane;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) {
      const i = layout === 'NCHW' ? c * plane + p : p * channels + c;
      out[offset + i] = input[i] * mask[p];
    }
  }
}

function isFlat(fm: FeatureMap, k: number): boolean {
  const plane = fm.width * fm.height;
  for (let p = 1; p < plane; p++) if (fm.data[k * plane + p] !== fm.data[k * plane]) return false;
  return true;
}

/** Softmax probability of `target` for each of the n rows of logits. */
function targetProbabilities(logits: ArrayLike<number>, n: number, target: number): number[] {
  const k = logits.length / n;
  if (!Number.isInteger(k) || target >= k) throw new Error(`model returned ${logits.length} logits for ${n} inputs`);
  return Array.from(
    { length: n },
    (_, i) => softmax(Array.prototype.slice.call(logits, i * k, (i + 1) * k) as number[])[target],
  );
}

export async function scoreCam(fm: FeatureMap, options: ScoreCamOptions): Promise<CamResult> {
  checkFeatureMap(fm);
  const { input, layout, width, height, runLogits } = options;
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 16));
  const size = input.length;
  if (size % (width * height) !== 0) throw new Error(`input of ${size} values is not a multiple of ${width}x${height}`);
  const logits = Array.from(options.logits ?? (await runLogits(input, 1)));
  const target = resolveTargetClass(options.targetClass, logits);

  // Flat channels all mask the input to zeros: one shared run covers them.
  const channels = Array.from({ length: fm.channels }, (_, k) => k);
  const varying = channels.filter((k) => !isFlat(fm, k));
  const jobs: (number | 'flat')[] = varying.length < fm.channels ? [...varying, 'flat'] : varying;
  const scores = new Map<number | 'flat', number>();
  for (let start = 0; start < jobs.length; start += batchSize) {
    const chunk = jobs.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * size); // a flat channel's masked input stays all zeros
    chunk.forEach((job, i) => {
      if (job !== 'flat') applyMask(input, channelMask(fm, job, width, height), layout, batch, i * size);
    });
    targetProbabilities(await runLogits(batch, chunk.length), chunk.length, target).forEach((s, i) =>
      scores.set(chunk[i], s),
    );
  }
  const weights = Float64Array.from(channels, (k) => scores.get(k) ?? scores.get('flat')!);
  return {
    method: 'score-cam',
    targetClass: target,
    logits,
    weights,
    cam: weightedChannelSum(fm, weights),
    width: fm.width,
    height: fm.height,
  };
}
