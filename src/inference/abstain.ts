/**
 * When a classification abstains: its P(malignant) lies within ABSTAIN_MARGIN of the decision
 * threshold (the model cannot tell), or its input does not look like usable dermoscopy
 * (image-quality.ts). The label and probabilities are kept; the result is marked, with the reasons,
 * so the API and the PDF say "indeterminate" instead of a bare label. docs/inference.md, "Image
 * quality and abstention".
 */
import type { QualityReason, QualityThresholds } from './image-quality';

export type PredictionFlag = 'LOW_MARGIN' | QualityReason;

/** Each flag in plain words, as reports say it ("Indeterminate: <reason>; <reason>"). */
export const FLAG_REASONS: Record<PredictionFlag, string> = {
  LOW_MARGIN: 'the probability of malignancy is too close to the decision threshold to call',
  BLURRED: 'the image is blurred or featureless',
  UNDER_EXPOSED: 'the image is too dark',
  OVER_EXPOSED: 'the image is overexposed',
  NOT_DERMOSCOPY_LIKE: 'the image does not look like dermoscopy of skin',
};

/** The config's QUALITY_* settings (AbstainConfig in infra/config, named here: math does not import infra). */
type QualitySettings = Record<
  | 'QUALITY_MIN_SHARPNESS'
  | 'QUALITY_MAX_SHARPNESS'
  | 'QUALITY_MIN_BRIGHTNESS'
  | 'QUALITY_MAX_DARK_FRACTION'
  | 'QUALITY_MAX_BRIGHT_FRACTION'
  | 'QUALITY_MIN_SKIN_FRACTION',
  number
>;

/** The image-quality limits the config sets (QUALITY_*). */
export function qualityThresholds(c: QualitySettings): QualityThresholds {
  return {
    minSharpness: c.QUALITY_MIN_SHARPNESS,
    maxSharpness: c.QUALITY_MAX_SHARPNESS,
    minBrightness: c.QUALITY_MIN_BRIGHTNESS,
    maxDarkFraction: c.QUALITY_MAX_DARK_FRACTION,
    maxBrightFraction: c.QUALITY_MAX_BRIGHT_FRACTION,
    minSkinFraction: c.QUALITY_MIN_SKIN_FRACTION,
  };
}

/** Stored flags in words (FLAG_REASONS; a value this version does not know is kept as it is). */
export function flagReasons(flags: readonly string[]): string[] {
  return flags.map((f) => FLAG_REASONS[f as PredictionFlag] ?? f);
}

export interface Abstention {
  /** |P(malignant) - decisionThreshold|: how far the call is from going the other way. */
  decisionMargin: number;
  /** LOW_MARGIN first, then the quality reasons in their order; empty when the result stands. */
  flags: PredictionFlag[];
  /** Any flag: the label is shown as indeterminate. */
  abstained: boolean;
}

/**
 * LOW_MARGIN when |P(malignant) - decisionThreshold| < margin (strictly: margin 0 never abstains),
 * plus the image's quality reasons. Any flag abstains.
 */
export function abstention(
  malignantProbability: number,
  decisionThreshold: number,
  margin: number,
  qualityReasons: readonly QualityReason[],
): Abstention {
  const decisionMargin = Math.abs(malignantProbability - decisionThreshold);
  const flags: PredictionFlag[] = [...(decisionMargin < margin ? ['LOW_MARGIN' as const] : []), ...qualityReasons];
  return { decisionMargin, flags, abstained: flags.length > 0 };
}
