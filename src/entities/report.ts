import { BigIntType, Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { InferenceJob } from './inference-job';
import { Patient } from './patient';
import { User } from './user';

export enum ReportKind {
  PDF = 'PDF',
  PDFS_ZIP = 'PDFS_ZIP',
  CSV = 'CSV',
  MASKS_ZIP = 'MASKS_ZIP',
}

/** Where a report's file is. FAILED is also what a report reads when its job ended FAILED or CANCELLED. */
export enum ReportStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  DONE = 'DONE',
  FAILED = 'FAILED',
}

/**
 * A generated export (generateReport): which images, in what form, and once DONE its file in the
 * content-addressed file store. Small reports are made in the request; large ones by a REPORT job
 * (`job`), which reports progress on the same subscription as inference.
 */
@Entity({ tableName: 'reports' })
@Index({ properties: ['owner', 'createdAt'] })
export class Report extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner!: User;

  @Enum({ items: () => ReportKind, nativeEnumName: 'report_kind' })
  kind!: ReportKind;

  @Enum({ items: () => ReportStatus, nativeEnumName: 'report_status' })
  status: ReportStatus = ReportStatus.PENDING;

  /** The job that makes it; null for a report made in the request. */
  @ManyToOne(() => InferenceJob, { nullable: true, deleteRule: 'set null' })
  job?: InferenceJob | null;

  /** The images, in report order (resolved from the input's images, patient, lesion or job). */
  @Property({ type: 'json' })
  imageIds!: string[];

  @Property({ type: 'integer' })
  imageCount!: number;

  /** Name the download is offered under. */
  @Property({ type: 'text' })
  fileName!: string;

  /** The file in the store, once DONE. */
  @Property({ type: 'text', nullable: true })
  fileSha256?: string | null;

  @Property({ type: new BigIntType('number'), nullable: true })
  bytes?: number | null;

  /** Why it FAILED (client-safe). */
  @Property({ type: 'text', nullable: true })
  error?: string | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  finishedAt?: Date | null;
}

/** The patients a report covers: Patient.reports reads it, and access to a report is access to all of them. */
@Entity({ tableName: 'report_patients' })
@Index({ properties: ['patient'] })
export class ReportPatient {
  @ManyToOne(() => Report, { primary: true, deleteRule: 'cascade' })
  report!: Report;

  @ManyToOne(() => Patient, { primary: true, deleteRule: 'cascade' })
  patient!: Patient;
}
