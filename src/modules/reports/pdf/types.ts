import type { Severity, SeverityThresholds } from '../../../inference/severity';

/** One model behind a number in the report. */
export interface ReportModelRef {
  /** Registry name of the model, e.g. `isic-classifier`. */
  name: string;
  /** Version string of that model. */
  version: string;
  /** Device it ran on, e.g. `cpu`, `cuda:0`. */
  device: string;
  /** Optional role, e.g. `ensemble member (weight 2)` or `Grad-CAM`. */
  role?: string;
}

/** Everything one per-image PDF report shows; plain data, no database access. */
export interface ImageReportData {
  patient: {
    name: string;
    externalId: string;
    /** ISO date (YYYY-MM-DD) or null when unknown. */
    dateOfBirth: string | null;
    /** Free text (e.g. `female`, `male`, `other`) or null when not recorded. */
    sex: string | null;
  };
  /** The lesion the image belongs to, or null when the image is not tied to one. */
  lesion: { bodySite: string | null; label?: string | null } | null;
  image: {
    id: string;
    fileName: string;
    /** Size in bytes. */
    bytes: number;
    width?: number | null;
    height?: number | null;
    takenAt: Date | null;
    uploadedAt: Date;
    /** The original image (any format sharp reads) as bytes or a file path. */
    source: Buffer | string;
  };
  prediction: {
    label: string;
    /** Probability of the predicted label, 0..1. */
    confidence: number;
    /** Every class probability, 0..1. */
    probabilities: { label: string; probability: number }[];
    models: ReportModelRef[];
    /**
     * Why the result is indeterminate, in words (the prediction abstained: low margin, poor image); the
     * report then says "Indeterminate" with these instead of a bare label. Empty or absent: the result stands.
     */
    indeterminate?: string[];
  } | null;
  segmentation: {
    areaPercent: number;
    circularity: number;
    meanIntensity: number;
    stdIntensity: number;
    severity: Severity;
    thresholds: SeverityThresholds;
    models: ReportModelRef[];
    /** PNG (or any sharp-readable image) of the mask drawn over the image; null when none was stored. */
    overlay: Buffer | null;
  } | null;
  /** Grad-CAM overlay image, or null when none was computed. */
  gradcam: { overlay: Buffer; models: ReportModelRef[] } | null;
}

export type ReportPaper = 'A4' | 'LETTER';

export interface ImageReportOptions {
  paper: ReportPaper;
  /** Shown at the top of every report. */
  serviceName: string;
  generatedAt: Date;
}
