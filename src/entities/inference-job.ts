import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { User } from './user';

export enum JobKind {
  CLASSIFY = 'CLASSIFY',
  SEGMENT = 'SEGMENT',
  /** A large generateReport: its images rendered into the report's file. */
  REPORT = 'REPORT',
}

export enum JobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  /** Stopped by cancelJob: its unrun images never run; results stored before the cancel stay. */
  CANCELLED = 'CANCELLED',
}

/** A job that may still run: the queue may hold it, or a runner has it. */
export const UNFINISHED_JOB_STATUSES: readonly JobStatus[] = [JobStatus.QUEUED, JobStatus.RUNNING];

/** Whether a job in `status` has ended (SUCCEEDED, FAILED or CANCELLED): it never changes again. */
export const isFinishedJobStatus = (status: JobStatus): boolean => !UNFINISHED_JOB_STATUSES.includes(status);

/**
 * One classifyImage / segmentImages call. Created QUEUED by the api, moved along by whichever
 * process runs it (in-process queue or a BullMQ worker). `request` holds the validated input
 * (image ids, members with the versions resolved at enqueue, threshold...) so a worker needs
 * nothing else; `resultIds` the Prediction / Segmentation ids as they land.
 */
@Entity({ tableName: 'inference_jobs' })
@Index({ properties: ['owner', 'createdAt'] })
@Index({ properties: ['status'] })
export class InferenceJob extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner!: User;

  @Enum({ items: () => JobKind, nativeEnumName: 'inference_job_kind' })
  kind!: JobKind;

  @Enum({ items: () => JobStatus, nativeEnumName: 'inference_job_status' })
  status: JobStatus = JobStatus.QUEUED;

  /** Last stage reached: queued, preprocessing, model, ensembling, metrics, gradcam, persisted, done, failed, cancelled. */
  @Property({ type: 'text' })
  stage: string = 'queued';

  /** 0..1 over the whole job (all images of a batch). */
  @Property({ type: 'double' })
  progress: number = 0;

  /** Reason of the last failure (client-safe message). */
  @Property({ type: 'text', nullable: true })
  error?: string | null;

  /** Attempts started (a retry or a stalled-job takeover increments it). */
  @Property({ type: 'integer' })
  attempts: number = 0;

  @Property({ type: 'json' })
  request!: Record<string, unknown>;

  /** Ids of the Predictions / Segmentations written, in image order. */
  @Property({ type: 'json' })
  resultIds: string[] = [];

  /** Number of images in the job (for per-image progress). */
  @Property({ type: 'integer' })
  total: number = 1;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  finishedAt?: Date | null;
}
