/**
 * Segmentation ensemble at the image's own resolution: each member's raw mask output becomes a
 * probability map, is resized to the image, and the weighted mean is thresholded.
 */
import { mapToImage, type ModelFit } from './cam-map';
import { thresholdMap, validateThreshold, weightedMeanMaps } from './ensemble';
import { detectFieldOfView, type FieldOfView } from './field-of-view';
import { lesionMask, workingSize, type LesionMask, type WorkingMap } from './lesion-mask';
import { greyFromRgb } from './mask-metrics';
import { sigmoid } from './softmax';

export interface MemberMask {
  /** One image's mask output (the 1 x H x W plane of N x 1 x H x W), row-major. */
  output: ArrayLike<number>;
  width: number;
  height: number;
  /** The manifest's segmentation activation: 'sigmoid' for logits, 'none' for probabilities. */
  activation: 'none' | 'sigmoid';
  /** The manifest's resize mode and input size; omitted = 'fill'. Outside a 'cover' crop the probability is 0. */
  fit?: ModelFit;
}

/**
 * A member's output as probabilities in [0, 1] at the image size. The activation comes first so
 * the bilinear resize interpolates probabilities (it stays in [0, 1]) rather than logits.
 */
export function memberProbabilityMap(member: MemberMask, imageWidth: number, imageHeight: number): Float32Array {
  const { output, width, height, activation, fit } = member;
  if (output.length !== width * height)
    throw new Error(`mask output of ${width}x${height} needs ${width * height} values, got ${output.length}`);
  const probs = Float32Array.from(output, (v) => {
    const p = activation === 'sigmoid' ? sigmoid(v) : v;
    return Math.min(1, Math.max(0, Number.isNaN(p) ? 0 : p));
  });
  return mapToImage(probs, width, height, imageWidth, imageHeight, fit);
}

/** Weighted mean probability map of the members and its binary mask (probability >= threshold). */
export function ensembleSegmentation(
  members: readonly MemberMask[],
  weights: readonly number[],
  threshold: number,
  imageWidth: number,
  imageHeight: number,
): { probability: Float32Array; mask: Uint8Array } {
  validateThreshold(threshold);
  const probability = weightedMeanMaps(
    members.map((m) => memberProbabilityMap(m, imageWidth, imageHeight)),
    weights,
  );
  return { probability, mask: thresholdMap(probability, threshold) };
}

/** What the server makes of one image's member outputs (segmentLesion). */
export interface LesionSegmentation {
  /** The members' weighted mean probability at the image size, before post-processing. */
  probability: Float32Array;
  /** The scope's visible field found in the image. */
  field: FieldOfView;
  /** The lesion mask after post-processing (lesion-mask.ts): hair opening, field, threshold, central pieces. */
  mask: Uint8Array;
  /** The mask reaches the image's edge or the field's. */
  touchesBorder: boolean;
  /** The image's grey levels (mask-metrics' greyFromRgb), for the measurements. */
  grey: Float32Array;
  /**
   * Each member's own lesion mask, its probability map post-processed exactly as the ensemble's (same
   * field). With one member it is the ensemble's (its weight is 1, so P is its map).
   */
  members: LesionMask[];
}

/**
 * The serving path: the ensemble's probability map (as ensembleSegmentation) post-processed into the
 * lesion mask against the image's field of view. `rgb` is the decoded image (interleaved RGB bytes).
 */
export function segmentLesion(
  members: readonly MemberMask[],
  weights: readonly number[],
  threshold: number,
  rgb: { data: ArrayLike<number>; width: number; height: number },
): LesionSegmentation {
  validateThreshold(threshold);
  const { width, height } = rgb;
  const maps = members.map((m) => memberProbabilityMap(m, width, height));
  const probability = weightedMeanMaps(maps, weights);
  const grey = greyFromRgb(rgb.data);
  const field = detectFieldOfView(grey, width, height);
  // On a large photograph the hair opening works on the maps made again at a smaller size (cheap: from the outputs).
  const work = workingSize(width, height);
  const small = work.width < width ? members.map((m) => memberProbabilityMap(m, work.width, work.height)) : null;
  const working = (map: Float32Array | null | undefined): WorkingMap | null => (map ? { map, ...work } : null);
  const lesion = lesionMask(
    probability,
    width,
    height,
    threshold,
    field,
    working(small && weightedMeanMaps(small, weights)),
  );
  const own =
    maps.length === 1
      ? [lesion]
      : maps.map((map, i) => lesionMask(map, width, height, threshold, field, working(small?.[i])));
  return { probability, field, ...lesion, grey, members: own };
}
