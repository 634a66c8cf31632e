/** Plain input rows for the CSV exports; the caller (a report job) fills them from the database. */

/** A model behind a number: registry name, version, and the device it ran on when known. */
export interface CsvModelRef {
  name: string;
  version: string;
  device?: string | null;
}

/** Segmentation measurements of one image (see src/inference/mask-metrics.ts). */
export interface ImageMetrics {
  areaPercent: number;
  areaPixels: number;
  perimeterPixels: number;
  circularity: number;
  meanIntensity: number;
  stdIntensity: number;
}

/** One image as a clinician's CSV shows it: identified (the clinician can read the patient). */
export interface ImageRow {
  patient: { externalId: string; name?: string | null };
  /** The lesion the image belongs to, or null when it is not tied to one. */
  lesion: { id: string; bodySite: string | null } | null;
  image: { id: string; fileName?: string | null; takenAt: Date | null; uploadedAt: Date };
  /** The image's classification, or null when it has none. */
  prediction: {
    label: string;
    /** Probability of `label`, 0..1. */
    confidence: number;
    /** Every class probability, 0..1. */
    probabilities: readonly { label: string; probability: number }[];
    models: readonly CsvModelRef[];
    createdAt?: Date | null;
    /** Whether it abstained (indeterminate); null when not assessed (stored before the checks). */
    abstained?: boolean | null;
    /** Why (PredictionFlag names), e.g. ['LOW_MARGIN']; empty when the result stands. */
    flags?: readonly string[];
  } | null;
  /** The image's segmentation, or null when it has none. */
  segmentation: {
    metrics: ImageMetrics;
    severity: string;
    models: readonly CsvModelRef[];
    createdAt?: Date | null;
  } | null;
}

/**
 * One segmentation as a researcher sees it: hashed ids, no names. Same shape as the research
 * module's `lesionMetrics` rows, so those pass straight in.
 */
export interface MetricsRow {
  /** HMAC of the segmentation id, stable within one export. */
  id: string;
  /** HMAC of the patient id. */
  subject: string;
  /** HMAC of the image id. */
  image: string;
  createdAt: Date;
  /** `name@version` of each model behind the row. */
  modelVersions: readonly string[];
  metrics: ImageMetrics & { dice: number | null; jaccard: number | null };
  severity: string;
  label: string | null;
  confidence: number | null;
  malignant: boolean | null;
  /** Whether that prediction abstained; null without one or when not assessed (stored before the checks). */
  abstained?: boolean | null;
  /** Its flags (PredictionFlag names), e.g. ['LOW_MARGIN']; empty when it stands. */
  flags?: readonly string[];
}
