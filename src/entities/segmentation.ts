import { Entity, Enum, Index, Property, Unique } from '@mikro-orm/core';
import { ImageResult } from './image-result';
import type { MemberRecord } from './prediction';

export enum Severity {
  LOW = 'LOW',
  MODERATE = 'MODERATE',
  HIGH = 'HIGH',
}

/**
 * One member's own result within a segmentation: its probability map post-processed exactly as the
 * ensemble's (same field of view, threshold and steps), its mask file and measurements.
 */
export interface MemberOutput {
  maskSha256: string;
  areaPixels: number;
  areaPercent: number;
  perimeterPixels: number;
  circularity: number;
  allPiecesCircularity: number;
  componentCount: number;
  meanIntensity: number;
  stdIntensity: number;
  touchesBorder: boolean;
  severity: Severity;
  /** Dice between this member's mask and the ensemble's. */
  diceWithEnsemble: number;
}

/** A member of a segmentation: what ran (MemberRecord) and, on rows stored since [14], its own output. */
export interface SegmentationMemberRecord extends MemberRecord {
  output?: MemberOutput;
}

/**
 * A segmentation of one image by a weighted ensemble. Mask, probability map and the default
 * overlay are PNGs in the content-addressed file store (sha256); overlays at another opacity
 * are rendered from the mask on request. Metrics are columns so research queries can filter
 * and aggregate them in SQL.
 */
@Entity({ tableName: 'segmentations' })
@Index({ properties: ['owner', 'createdAt'] })
@Index({ properties: ['patientId', 'createdAt'] })
@Index({ properties: ['imageId'] })
// One result per image of a job, whatever happens to workers (a takeover racing a slow worker loses the insert).
@Unique({ name: 'segmentations_job_image_unique', properties: ['job', 'imageId'] })
@Index({ properties: ['severity'] })
export class Segmentation extends ImageResult {
  @Property({ type: 'json' })
  members!: SegmentationMemberRecord[];

  /**
   * Mean Dice between the members' masks, pair by pair (1 = they agree exactly): low agreement is an
   * uncertainty signal. Null with one member, and on rows stored before it was measured.
   */
  @Property({ type: 'double', nullable: true })
  memberAgreement?: number | null;

  @Property({ type: 'double' })
  threshold!: number;

  @Property({ type: 'text' })
  maskSha256!: string;

  @Property({ type: 'text' })
  probabilitySha256!: string;

  /** Overlay at the default opacity (0.5). */
  @Property({ type: 'text' })
  overlaySha256!: string;

  @Property({ type: 'integer' })
  width!: number;

  @Property({ type: 'integer' })
  height!: number;

  @Property({ type: 'double' })
  areaPercent!: number;

  @Property({ type: 'integer' })
  areaPixels!: number;

  @Property({ type: 'double' })
  perimeterPixels!: number;

  /**
   * The lesion's circularity: its largest component's 4*pi*A/P^2, what severity grades. Rows stored
   * before this was so (componentCount null) hold the all-pieces figure here.
   */
  @Property({ type: 'double' })
  circularity!: number;

  /** 4*pi*A/P^2 of every piece of the mask together (the seed's definition). */
  @Property({ type: 'double' })
  allPiecesCircularity!: number;

  /** 8-connected pieces of the mask; null on rows stored before pieces were counted. */
  @Property({ type: 'integer', nullable: true })
  componentCount?: number | null;

  @Property({ type: 'double' })
  meanIntensity!: number;

  @Property({ type: 'double' })
  stdIntensity!: number;

  /** The lesion mask reaches the image's edge or the scope's field edge; null on rows stored before it was checked. */
  @Property({ type: 'boolean', nullable: true })
  touchesBorder?: boolean | null;

  /** % of the image inside the scope's visible field; null when no dark surround was found (or before it was looked for). */
  @Property({ type: 'double', nullable: true })
  fieldOfViewPercent?: number | null;

  /** Against a ground-truth mask, when one was supplied. */
  @Property({ type: 'double', nullable: true })
  dice?: number | null;

  @Property({ type: 'double', nullable: true })
  jaccard?: number | null;

  @Enum({ items: () => Severity, nativeEnumName: 'lesion_severity' })
  severity!: Severity;
}
