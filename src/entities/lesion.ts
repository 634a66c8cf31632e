import { Entity, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Patient } from './patient';
import { User } from './user';

/** A lesion on a patient, followed over time through its images. */
@Entity({ tableName: 'lesions' })
@Index({ name: 'lesions_patient_created_idx', properties: ['patient', 'createdAt'] })
export class Lesion extends BaseEntity {
  @ManyToOne(() => Patient, { deleteRule: 'restrict' })
  patient!: Patient;

  /** Where on the body, free text (e.g. "left forearm"). */
  @Property({ type: 'text' })
  bodySite!: string;

  @Property({ type: 'text' })
  label!: string;

  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true })
  createdBy?: User | null;
}
