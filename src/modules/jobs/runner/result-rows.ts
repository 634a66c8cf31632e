/**
 * The rows a job stores per image, built from what the pipeline returned: pure mappings from a
 * classification or segmentation result (and the files already stored) to the entity's columns.
 */
import type { Severity } from '../../../entities/segmentation';
import type { AbstainConfig } from '../../../infra/config';
import type { JobRequest } from '../job-request';
import type { ResultRow } from '../results.repository';
import { abstentionColumns } from './abstain-check';
import type { ClassifyResult, SegmentResult } from './pipeline';
import type { SegmentationMemberRecord } from '../../../entities/segmentation';

/** The columns every result shares (ImageResult): who asked, the job, the image and its patient. */
export interface CommonColumns {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  owner: string;
  job: string;
  imageId: string;
  patientId: string;
}

/**
 * A prediction's row: the ensemble's call, each member's own, their disagreement, and whether the
 * result abstains (the quality of the pixels classified, the margin of the call against
 * `decisionThreshold`). The Grad-CAM columns are added once its map is stored.
 */
export function predictionRow(
  common: CommonColumns,
  r: ClassifyResult,
  req: JobRequest,
  decisionThreshold: number,
  abstain: AbstainConfig,
): ResultRow {
  return {
    ...common,
    label: r.summary.label,
    confidence: r.summary.confidence,
    malignant: r.summary.malignant,
    malignantProbability: r.summary.malignantProbability,
    probabilities: r.summary.probabilities,
    members: r.members,
    ensemble: req.ensemble ?? null,
    memberMalignantSpread: r.disagreement?.malignantProbabilitySpread ?? null,
    memberMalignantStdDev: r.disagreement?.malignantProbabilityStdDev ?? null,
    membersDisagree: r.disagreement?.labelsDisagree ?? null,
    ...abstentionColumns(r.quality, r.summary.malignantProbability, decisionThreshold, abstain),
  };
}

/** The sha256 of a segmentation's stored PNGs. */
export interface SegmentationFiles {
  mask: string;
  probability: string;
  overlay: string;
}

/** A segmentation's row: the measurements, the grade, the stored files and each member's own output. */
export function segmentationRow(
  common: CommonColumns,
  r: SegmentResult,
  members: SegmentationMemberRecord[],
  files: SegmentationFiles,
  req: JobRequest,
): ResultRow {
  return {
    ...common,
    members,
    memberAgreement: r.memberAgreement,
    threshold: req.threshold ?? 0.5,
    maskSha256: files.mask,
    probabilitySha256: files.probability,
    overlaySha256: files.overlay,
    width: r.width,
    height: r.height,
    ...r.metrics,
    touchesBorder: r.touchesBorder,
    fieldOfViewPercent: r.fieldOfViewPercent,
    dice: r.overlap?.dice ?? null,
    jaccard: r.overlap?.jaccard ?? null,
    severity: r.severity as Severity,
  };
}
