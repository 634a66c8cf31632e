/**
 * The full-resolution image work of inference: a segmentation's ensemble, metrics and PNGs, and the
 * Grad-CAM / mask overlays rendered on request. At 50 megapixels each of these is seconds of
 * JavaScript, so they run on ImageThreads (image-threads.ts), never on the event loop. Plain data
 * in and out (typed arrays), so a call crosses threads with its buffers moved, not copied.
 */
import {
  decodeMask,
  decodeRgb,
  heatmapOverlayPng,
  heatmapPng,
  maskPng,
  probabilityPng,
  segmentationOverlayPng,
} from '../../../inference/render';
import { segmentLesion, type MemberMask } from '../../../inference/segmentation-maps';
import { maskMetrics, overlap, type MaskMetrics } from '../../../inference/mask-metrics';
import { meanPairwiseDice } from '../../../inference/member-agreement';
import { severity, type Severity, type SeverityThresholds } from '../../../inference/severity';
import { decodeMap } from '../cam-map-file';
import type { MemberRecord } from '../../../entities/prediction';
import type { MemberOutput, SegmentationMemberRecord } from '../../../entities/segmentation';

const buffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export interface FinishSegmentationInput {
  /** The image file's bytes. */
  source: Uint8Array;
  /** Each member's mask output at model resolution. */
  maps: MemberMask[];
  /** Normalised member weights. */
  weights: number[];
  threshold: number;
  severity: SeverityThresholds;
  /** A ground-truth mask image's bytes, or null. */
  truth: Uint8Array | null;
}

/** One member's own result (its map post-processed as the ensemble's), in the members' order. */
export interface FinishedMember {
  metrics: MaskMetrics;
  touchesBorder: boolean;
  severity: Severity;
  diceWithEnsemble: number;
  maskPng: Uint8Array;
}

export interface FinishedSegmentation {
  width: number;
  height: number;
  metrics: MaskMetrics;
  /** The lesion mask reaches the image's edge or the scope's field edge. */
  touchesBorder: boolean;
  /** % of the image inside the scope's visible field; null when no dark surround was found. */
  fieldOfViewPercent: number | null;
  severity: Severity;
  overlap: { dice: number; jaccard: number } | null;
  maskPng: Uint8Array;
  probabilityPng: Uint8Array;
  /** The mask overlay at opacity 0.5 (the one most clients ask for first). */
  overlayPng: Uint8Array;
  memberOutputs: FinishedMember[];
  /** Mean pairwise Dice of the members' masks; null with one member. */
  memberAgreement: number | null;
}

/**
 * The members' masks brought to the image, averaged, post-processed into the lesion mask (field of
 * view, hair, threshold, central pieces: segmentLesion); measured; rendered.
 */
export async function finishSegmentation(input: FinishSegmentationInput): Promise<FinishedSegmentation> {
  const image = await decodeRgb(buffer(input.source));
  const { width, height } = image;
  const seg = segmentLesion(input.maps, input.weights, input.threshold, image);
  const { probability, mask } = seg;
  const metrics = maskMetrics(mask, width, height, seg.grey);
  const truth = input.truth ? await decodeMask(buffer(input.truth), width, height) : null;
  const [maskFile, probabilityFile, overlayFile] = await Promise.all([
    maskPng(mask, width, height),
    probabilityPng(probability, width, height),
    segmentationOverlayPng(image, mask, 0.5),
  ]);
  const single = seg.members.length === 1;
  const memberOutputs = await Promise.all(
    seg.members.map(async (m): Promise<FinishedMember> => {
      const own = single ? metrics : maskMetrics(m.mask, width, height, seg.grey);
      return {
        metrics: own,
        touchesBorder: m.touchesBorder,
        severity: severity(own.areaPercent, own.circularity, input.severity),
        diceWithEnsemble: single ? 1 : overlap(m.mask, mask).dice,
        maskPng: single ? bytes(maskFile) : bytes(await maskPng(m.mask, width, height)),
      };
    }),
  );
  return {
    width,
    height,
    metrics,
    touchesBorder: seg.touchesBorder,
    fieldOfViewPercent: seg.field.detected ? seg.field.visiblePercent : null,
    severity: severity(metrics.areaPercent, metrics.circularity, input.severity),
    overlap: truth ? overlap(mask, truth) : null,
    maskPng: bytes(maskFile),
    probabilityPng: bytes(probabilityFile),
    overlayPng: bytes(overlayFile),
    memberOutputs,
    memberAgreement: meanPairwiseDice(seg.members.map((m) => m.mask)),
  };
}

/**
 * Each member's record with its own output (its stored mask's sha256 and measurements), in the order
 * of the members: what Segmentation.members keeps and the research summary reads.
 */
export function withMemberOutputs(
  records: readonly MemberRecord[],
  outputs: readonly FinishedMember[],
  maskSha256: readonly string[],
): SegmentationMemberRecord[] {
  return records.map((m, i) => {
    const { metrics, touchesBorder, severity, diceWithEnsemble } = outputs[i];
    const output = { maskSha256: maskSha256[i], ...metrics, touchesBorder, diceWithEnsemble };
    return { ...m, output: { ...output, severity: severity as MemberOutput['severity'] } };
  });
}

/** The colour-mapped heatmap of a stored Grad-CAM map. */
export async function gradCamHeatmap(input: { map: Uint8Array }): Promise<Uint8Array> {
  const m = decodeMap(buffer(input.map));
  return bytes(await heatmapPng(m.map, m.width, m.height));
}

/** A stored Grad-CAM map over its image at `opacity` (validated by the caller). */
export async function gradCamOverlay(input: {
  image: Uint8Array;
  map: Uint8Array;
  opacity: number;
}): Promise<Uint8Array> {
  const [image, m] = [await decodeRgb(buffer(input.image)), decodeMap(buffer(input.map))];
  return bytes(await heatmapOverlayPng(image, m.map, m.width, m.height, input.opacity));
}

/** A stored mask (PNG) over its image at `opacity` (validated by the caller). */
export async function maskOverlay(input: {
  image: Uint8Array;
  mask: Uint8Array;
  opacity: number;
}): Promise<Uint8Array> {
  const image = await decodeRgb(buffer(input.image));
  const mask = await decodeMask(buffer(input.mask), image.width, image.height);
  return bytes(await segmentationOverlayPng(image, mask, input.opacity));
}

/** Every task ImageThreads runs, by name. */
export const IMAGE_TASKS = { finishSegmentation, gradCamHeatmap, gradCamOverlay, maskOverlay };
export type ImageTaskName = keyof typeof IMAGE_TASKS;
