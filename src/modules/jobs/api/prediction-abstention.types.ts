/**
 * What a Prediction says about its own reliability ([14], docs/inference.md "Image quality and
 * abstention"): the image-quality figures, the flags, and whether the result abstains.
 */
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import type { Prediction } from '../../../entities/prediction';
import { flagReasons } from '../../../inference/abstain';

/** The flags (values as stored in predictions.flags); NOT_ASSESSED only for rows stored before the checks. */
export const PredictionFlag = {
  LOW_MARGIN: 'LOW_MARGIN',
  BLURRED: 'BLURRED',
  UNDER_EXPOSED: 'UNDER_EXPOSED',
  OVER_EXPOSED: 'OVER_EXPOSED',
  NOT_DERMOSCOPY_LIKE: 'NOT_DERMOSCOPY_LIKE',
  NOT_ASSESSED: 'NOT_ASSESSED',
} as const;
export type PredictionFlag = (typeof PredictionFlag)[keyof typeof PredictionFlag];

registerEnumType(PredictionFlag, {
  name: 'PredictionFlag',
  description: 'Why a prediction abstains (Prediction.flags); any flag but NOT_ASSESSED makes abstained true',
  valuesConfig: {
    LOW_MARGIN: {
      description: 'malignantProbability lies less than ABSTAIN_MARGIN from the model’s decision threshold',
    },
    BLURRED: { description: 'quality.sharpness is below QUALITY_MIN_SHARPNESS: blurred, or a flat image' },
    UNDER_EXPOSED: {
      description:
        'quality.meanBrightness is below QUALITY_MIN_BRIGHTNESS or quality.darkFraction above QUALITY_MAX_DARK_FRACTION',
    },
    OVER_EXPOSED: { description: 'quality.brightFraction is above QUALITY_MAX_BRIGHT_FRACTION' },
    NOT_DERMOSCOPY_LIKE: {
      description:
        'quality.skinFraction is below QUALITY_MIN_SKIN_FRACTION, or quality.sharpness above QUALITY_MAX_SHARPNESS (noise, text, patterns)',
    },
    NOT_ASSESSED: {
      description: 'Stored before quality and margin were checked: abstained and quality are null',
    },
  },
});

@ObjectType('ImageQuality', {
  description:
    'Simple checks of the pixels the classifier saw, at 128 x 128 (docs/inference.md, "Image quality and abstention")',
})
export class ImageQualityType {
  @Field(() => Float, {
    description:
      '0..1: the lowest of the checks’ scores, each 0.5 exactly at its limit; below 0.5 means a quality flag',
  })
  score!: number;
  @Field(() => Float, { description: 'Variance of the Laplacian of the grey image (0..255 levels): low is blurred' })
  sharpness!: number;
  @Field(() => Float, { description: 'Fraction of pixels clipped dark (grey level <= 16), 0..1' })
  darkFraction!: number;
  @Field(() => Float, { description: 'Fraction of pixels clipped bright (grey level >= 240), 0..1' })
  brightFraction!: number;
  @Field(() => Float, { description: 'Mean grey level, 0..255' })
  meanBrightness!: number;
  @Field(() => Float, {
    description:
      'Fraction of the pixels not clipped dark whose colour is skin or lesion-like (Chai & Ngan YCbCr box), 0..1',
  })
  skinFraction!: number;
}

/** Whether a stored prediction abstained and why; rows stored before the checks read not assessed. */
export function storedAbstention(p: Pick<Prediction, 'abstained' | 'flags'>): {
  abstained: boolean | null;
  flags: PredictionFlag[];
} {
  return p.abstained === null || p.abstained === undefined
    ? { abstained: null, flags: [PredictionFlag.NOT_ASSESSED] }
    : { abstained: p.abstained, flags: (p.flags ?? []) as PredictionFlag[] };
}

/** The flags in words: the report's (FLAG_REASONS), and one for predictions stored before the checks. */
export function reasonsOf(flags: readonly PredictionFlag[]): string[] {
  return flags.map((f) =>
    f === PredictionFlag.NOT_ASSESSED
      ? 'it was classified before image quality and confidence were checked'
      : flagReasons([f])[0],
  );
}

/** The abstention fields of a Prediction from its row (null figures on rows stored before them). */
export function toAbstention(p: Prediction): {
  abstained: boolean | null;
  flags: PredictionFlag[];
  reasons: string[];
  quality: ImageQualityType | null;
  decisionMargin: number | null;
  abstainMargin: number | null;
} {
  const stored = storedAbstention(p);
  return {
    ...stored,
    reasons: reasonsOf(stored.flags),
    quality: p.quality ?? null,
    decisionMargin: p.decisionMargin ?? null,
    abstainMargin: p.abstainMargin ?? null,
  };
}
