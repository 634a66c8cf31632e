/**
 * Grad-CAM (Selvaraju et al.) from the feature map A that the ONNX model exposes and the
 * classifier head read from the same file (docs/inference.md, "Grad-CAM"):
 * alpha_k = mean over (i, j) of d y_c / d A_k(i, j), with y_c the logit of the target class,
 * cam = ReLU(sum_k alpha_k A_k), upsampled to the image and scaled to [0, 1].
 *
 * Typical use by the jobs layer:
 *   const plan = loadGradCamHead(onnxBytes, 'features', 'logits');   // once per model version
 *   if (plan.differentiable) try { gradCam(plan.head, fm, { targetClass }) } catch (UnsupportedHeadError) { scoreCam(...) }
 *   else scoreCam(...)                                               // plan.reason says why
 */
import { checkFeatureMap, type FeatureMap, weightedChannelSum } from './cam-map';
import { UnsupportedHeadError } from './head-tensor';
import { badInput } from '../infra/errors';
import { type ClassifierHead, headGradient, type HeadPlan, planHead } from './onnx-head';
import { parseOnnxModel } from './onnx-proto';
import { argmax } from './softmax';

export { UnsupportedHeadError };
export type CamMethod = 'grad-cam' | 'score-cam';

export interface CamResult {
  method: CamMethod;
  /** The class explained: the one asked for, else the highest logit. */
  targetClass: number;
  /** The model's logits for this image (Grad-CAM: recomputed by the head in float64). */
  logits: number[];
  /** Channel weights alpha_k (Grad-CAM) or softmax scores (Score-CAM). */
  weights: Float64Array;
  /** ReLU(sum_k w_k A_k) at feature resolution (height x width of A), before scaling. */
  cam: Float64Array;
  width: number;
  height: number;
}

/** Parses the ONNX file and finds its head; `differentiable: false` carries why Score-CAM must be used. */
export function loadGradCamHead(onnxBytes: Uint8Array, featuresOutput: string, logitsOutput: string): HeadPlan {
  return planHead(parseOnnxModel(onnxBytes), featuresOutput, logitsOutput);
}

/** Checks a requested class index against the number of logits; undefined means "the predicted one". */
export function resolveTargetClass(requested: number | undefined, logits: ArrayLike<number>): number {
  if (requested === undefined) return argmax(logits);
  if (!Number.isInteger(requested) || requested < 0 || requested >= logits.length) {
    throw badInput('targetClass', `targetClass must be an integer from 0 to ${logits.length - 1}, got ${requested}`);
  }
  return requested;
}

/** alpha_k: the spatial mean of d y_c / d A_k over the H x W positions. */
export function spatialMeans(grad: ArrayLike<number>, channels: number, plane: number): Float64Array {
  const alpha = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    let s = 0;
    for (let p = 0; p < plane; p++) s += grad[k * plane + p];
    alpha[k] = s / plane;
  }
  return alpha;
}

/**
 * Exact Grad-CAM through the head. Throws UnsupportedHeadError when the head cannot run on this
 * feature map (e.g. an operand shape it does not handle): the caller then uses Score-CAM.
 */
export function gradCam(head: ClassifierHead, fm: FeatureMap, options: { targetClass?: number } = {}): CamResult {
  checkFeatureMap(fm);
  const features = { dims: [1, fm.channels, fm.height, fm.width], data: Float64Array.from(fm.data) };
  const { logits, target, gradFeatures } = headGradient(head, features, (l) =>
    resolveTargetClass(options.targetClass, l),
  );
  const weights = spatialMeans(gradFeatures, fm.channels, fm.height * fm.width);
  return {
    method: 'grad-cam',
    targetClass: target,
    logits: Array.from(logits),
    weights,
    cam: weightedChannelSum(fm, weights),
    width: fm.width,
    height: fm.height,
  };
}
