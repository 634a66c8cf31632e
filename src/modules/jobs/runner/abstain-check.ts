/**
 * The job runner's side of abstention (docs/inference.md, "Image quality and abstention"): image
 * quality measured on pixels the classification already decoded (no decode of its own), then scored
 * with the config's limits together with the margin of the call, into the columns a Prediction stores.
 */
import type { ResizedRgb } from '../../../inference/preprocess';
import {
  measureQuality,
  QUALITY_WORKING_SIZE,
  scoreQuality,
  type QualityFigures,
} from '../../../inference/image-quality';
import { abstention, qualityThresholds } from '../../../inference/abstain';
import type { AbstainConfig } from '../../../infra/config';
import type { Prediction } from '../../../entities/prediction';

/**
 * Quality figures of an image from its decodes at the members' input sizes: the one already at the
 * working size when there is one (the shipped classifiers' 128 x 128: no resampling, ~0.2 ms), else
 * the first, brought to it by area averaging (~1.3 ms from 224 x 224).
 */
export function measureDecoded(pixels: ReadonlyMap<string, ResizedRgb>): QualityFigures {
  const all = [...pixels.values()];
  const px = all.find((p) => p.width === QUALITY_WORKING_SIZE && p.height === QUALITY_WORKING_SIZE) ?? all[0];
  return measureQuality(px.data, px.width, px.height);
}

export type AbstentionColumns = Required<
  Pick<Prediction, 'quality' | 'flags' | 'abstained' | 'decisionMargin' | 'abstainMargin'>
>;

/** The abstention columns of a classification: its quality scored against QUALITY_*, its margin against ABSTAIN_MARGIN. */
export function abstentionColumns(
  figures: QualityFigures,
  malignantProbability: number,
  decisionThreshold: number,
  config: AbstainConfig,
): AbstentionColumns {
  const { quality, reasons } = scoreQuality(figures, qualityThresholds(config));
  const a = abstention(malignantProbability, decisionThreshold, config.ABSTAIN_MARGIN, reasons);
  return {
    quality,
    flags: a.flags,
    abstained: a.abstained,
    decisionMargin: a.decisionMargin,
    abstainMargin: config.ABSTAIN_MARGIN,
  };
}
