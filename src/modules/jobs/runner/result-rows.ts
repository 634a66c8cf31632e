/**
 * The rows a job stores per image, built from what the pipeline returned: pure mappings from a
 * classification or segmentation result (and the files already stored) to the entity's columns.
 */
import type { Severity } from '../../../entities/segmentation';
import type { AbstainConfig } from '../../../infra/config';
import type { JobRequest } from '../job-request';
import type { ResultRow } from '../results.repository';
import { abstentionColumns } from './abstain-check';
import type { CamOutput, ClassifyResult, SegmentResult } from './pipeline';
import type { SegmentationMemberRecord } from '../../../entities/segmentation';
import { storedMap } from '../cam-map-file';

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

/** A classification's Grad-CAM as its row keeps it: what it explains, and the map's bytes and their sha256. */
export interface RowCam {
  method: CamOutput['method'];
  targetLabel: string;
  model: string;
  sha256: string;
  bytes: Buffer;
}

/**
 * predictionRow with the Grad-CAM map in it (the heatmap and overlays are rendered from the row's map
 * when first asked for), and that map, whose sha256 names it in the heatmap's URLs.
 */
export function classificationRow(
  common: CommonColumns,
  r: ClassifyResult,
  req: JobRequest,
  abstain: AbstainConfig,
): { row: ResultRow; cam: RowCam | null } {
  const row = predictionRow(common, r, req, r.decisionThreshold, abstain);
  if (!r.cam) return { row, cam: null };
  const cam: RowCam = {
    method: r.cam.method,
    targetLabel: r.cam.targetLabel,
    model: r.cam.model,
    ...storedMap(r.cam.map),
  };
  Object.assign(row, {
    gradCamMethod: cam.method,
    gradCamTarget: cam.targetLabel,
    gradCamModel: cam.model,
    gradCamMapSha256: cam.sha256,
    gradCamMap: cam.bytes,
  });
  return { row, cam };
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
