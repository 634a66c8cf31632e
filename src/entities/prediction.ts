import { Entity, Index, Property, Unique } from '@mikro-orm/core';
import { ImageResult } from './image-result';

/** One model (ensemble member) that contributed to a result: the version it ran, where, and its weight. */
export interface MemberRecord {
  model: string;
  version: string;
  /** Requested device (member input or the version's placement). */
  requested: string;
  /** Device the session actually ran on. */
  device: string;
  fallbackReason?: string | null;
  /** Normalised weight (sums to 1 over the members). */
  weight: number;
}

export interface LabelProbability {
  label: string;
  probability: number;
}

/** One classification member's own answer, before the ensemble averaged it (its labels are the ensemble's). */
export interface ClassificationMemberOutput {
  label: string;
  confidence: number;
  malignantProbability: number;
  probabilities: LabelProbability[];
}

/** A member of a classification: what ran (MemberRecord) and, on rows stored since [14], its own output. */
export interface PredictionMemberRecord extends MemberRecord {
  output?: ClassificationMemberOutput;
}

/** Image-quality figures as stored: inference/image-quality.ts's ImageQuality (entities do not import the math). */
export interface QualityRecord {
  score: number;
  sharpness: number;
  darkFraction: number;
  brightFraction: number;
  meanBrightness: number;
  skinFraction: number;
}

/**
 * A classification of one image. `imageId` / `patientId` are the [3] entities' ids (kept as plain
 * uuids so this table does not depend on their module order); the owner is the user who asked.
 * The Grad-CAM map is kept in the row (rows stored before: a file of the store, named by its sha256);
 * its renderings are cached in the file store.
 */
@Entity({ tableName: 'predictions' })
@Index({ properties: ['owner', 'createdAt'] })
@Index({ properties: ['patientId', 'createdAt'] })
@Index({ properties: ['imageId'] })
// Heatmap URLs name a map by its sha256 (Migration20261205100000_prediction_cam_map).
@Index({
  name: 'predictions_grad_cam_map_sha256_index',
  expression:
    'create index "predictions_grad_cam_map_sha256_index" on "predictions" ("grad_cam_map_sha256") where "grad_cam_map" is not null',
})
// One result per image of a job, whatever happens to workers (a takeover racing a slow worker loses the insert).
@Unique({ name: 'predictions_job_image_unique', properties: ['job', 'imageId'] })
export class Prediction extends ImageResult {
  @Property({ type: 'text' })
  label!: string;

  @Property({ type: 'double' })
  confidence!: number;

  @Property({ type: 'boolean' })
  malignant!: boolean;

  /** P(malignant): summed probability of the malignant labels. */
  @Property({ type: 'double' })
  malignantProbability!: number;

  @Property({ type: 'json' })
  probabilities!: LabelProbability[];

  /** Every member: model, version, requested/actual device, normalised weight and (since [14]) its own output. */
  @Property({ type: 'json' })
  members!: PredictionMemberRecord[];

  /** The named classification ensemble asked for (or the default's), null for ad-hoc `models` and older rows. */
  @Property({ type: 'text', nullable: true })
  ensemble?: string | null;

  /**
   * Members' disagreement (inference/ensemble-disagreement.ts): max - min and weighted standard
   * deviation of their P(malignant), and whether their labels differ. Null with one member and on
   * rows stored before it was measured.
   */
  @Property({ type: 'double', nullable: true })
  memberMalignantSpread?: number | null;

  @Property({ type: 'double', nullable: true })
  memberMalignantStdDev?: number | null;

  @Property({ type: 'boolean', nullable: true })
  membersDisagree?: boolean | null;

  /** 'grad-cam' | 'score-cam'; null when not explained. */
  @Property({ type: 'text', nullable: true })
  gradCamMethod?: string | null;

  @Property({ type: 'text', nullable: true })
  gradCamTarget?: string | null;

  /** Which member the map was computed on (model@version). */
  @Property({ type: 'text', nullable: true })
  gradCamModel?: string | null;

  /** sha256 of the map (jobs/cam-map-file.ts); heatmap URLs name it, and heatmap and overlays render from the map. */
  @Property({ type: 'text', nullable: true })
  gradCamMapSha256?: string | null;

  /**
   * The map itself (a few hundred bytes), kept in the row; null on rows stored before, whose map is a file
   * of the store under gradCamMapSha256. Lazy: read by the routes that render it, not with every prediction.
   */
  @Property({ type: 'blob', nullable: true, lazy: true })
  gradCamMap?: Buffer | null;

  /** Unused since the heatmap is rendered from the map on request (kept for rows written before). */
  @Property({ type: 'text', nullable: true })
  gradCamHeatmapSha256?: string | null;

  // Abstention ([14], docs/inference.md "Image quality and abstention"): null on rows stored before it (not assessed).

  /** The image-quality figures of the pixels classified (inference/image-quality.ts). */
  @Property({ type: 'json', nullable: true })
  quality?: QualityRecord | null;

  /** Why the result abstains (PredictionFlag values, inference/abstain.ts); empty when it stands. */
  @Property({ type: 'json', nullable: true })
  flags?: string[] | null;

  /** Any flag: the label is reported as indeterminate (label and probabilities are kept). */
  @Property({ type: 'boolean', nullable: true })
  abstained?: boolean | null;

  /** |malignantProbability - decision threshold|: the threshold `malignant` was decided at (ensembleDecisionThreshold). */
  @Property({ type: 'double', nullable: true })
  decisionMargin?: number | null;

  /** ABSTAIN_MARGIN when it was stored. */
  @Property({ type: 'double', nullable: true })
  abstainMargin?: number | null;
}
