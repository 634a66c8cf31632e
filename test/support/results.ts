import type { EntityManager } from '@mikro-orm/postgresql';
import { Prediction, Segmentation, Severity, type InferenceJob } from '../../src/entities';

/** Where a result row belongs and when it was made: what every seeded result differs by. */
export interface ResultRow {
  owner: string;
  imageId: string;
  patientId: string;
  members: unknown[];
  at: Date;
  job?: InferenceJob | null;
}

/** A stored segmentation (a 250x250 mask, MODERATE unless `extra` says otherwise), written straight to the table. */
export function seedSegmentation(em: EntityManager, row: ResultRow, extra: Partial<Segmentation> = {}): Segmentation {
  const { at, ...rest } = row;
  return em.create(Segmentation, {
    ...rest,
    threshold: 0.5,
    maskSha256: 'a'.repeat(64),
    probabilitySha256: 'b'.repeat(64),
    overlaySha256: 'c'.repeat(64),
    width: 250,
    height: 250,
    areaPercent: 12.5,
    areaPixels: 7812,
    perimeterPixels: 320,
    circularity: 0.9,
    allPiecesCircularity: 0.9,
    componentCount: 1,
    meanIntensity: 0.4,
    stdIntensity: 0.1,
    severity: Severity.MODERATE,
    createdAt: at,
    updatedAt: at,
    ...extra,
  } as never) as Segmentation;
}

/** A stored prediction with a Grad-CAM map (label and scores from `extra`), written straight to the table. */
export function seedPrediction(em: EntityManager, row: ResultRow, extra: Partial<Prediction> = {}): Prediction {
  const { at, ...rest } = row;
  return em.create(Prediction, {
    ...rest,
    label: 'nevus',
    confidence: 0.9,
    malignant: false,
    malignantProbability: 0.1,
    probabilities: [],
    gradCamMethod: 'grad-cam',
    gradCamTarget: 'nevus',
    gradCamModel: 'dg-test@1.0.0',
    gradCamMapSha256: 'd'.repeat(64),
    createdAt: at,
    updatedAt: at,
    ...extra,
  } as never) as Prediction;
}
