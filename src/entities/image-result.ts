import { ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { InferenceJob } from './inference-job';
import { User } from './user';

/**
 * What every inference result (prediction, segmentation) records about where it came from: who asked,
 * the job that made it, and the image and patient (plain uuids of the [3] tables).
 */
export abstract class ImageResult extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner!: User;

  @ManyToOne(() => InferenceJob, { deleteRule: 'set null', nullable: true })
  job?: InferenceJob | null;

  @Property({ type: 'uuid' })
  imageId!: string;

  @Property({ type: 'uuid', nullable: true })
  patientId?: string | null;
}
