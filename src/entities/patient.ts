import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, ManyToOne, PrimaryKeyProp, Property, Unique, PrimaryKey } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { User } from './user';

export enum Sex {
  FEMALE = 'FEMALE',
  MALE = 'MALE',
  OTHER = 'OTHER',
  UNKNOWN = 'UNKNOWN',
}

/**
 * A patient record, owned by the clinician who created it. Records are archived, never deleted,
 * so their images and history stay. The external id (MRN) is unique per owner.
 */
@Entity({ tableName: 'patients' })
@Unique({ name: 'patients_owner_external_id_unique', properties: ['owner', 'externalId'] })
@Index({ name: 'patients_owner_created_idx', properties: ['owner', 'createdAt'] })
export class Patient extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'restrict' })
  owner!: User;

  @Property({ type: 'text' })
  externalId!: string;

  @Property({ type: 'text' })
  displayName!: string;

  @Property({ type: 'date', nullable: true })
  dateOfBirth?: string | null;

  @Enum({ items: () => Sex, nativeEnumName: 'patient_sex', nullable: true })
  sex?: Sex | null;

  @Property({ type: 'text', nullable: true })
  notes?: string | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  archivedAt?: Date | null;
}

/** A clinician (other than the owner) who may read and change a patient. */
@Entity({ tableName: 'patient_shares' })
export class PatientShare {
  @ManyToOne(() => Patient, { primary: true, deleteRule: 'cascade' })
  patient!: Patient;

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  user!: User;

  [PrimaryKeyProp]?: ['patient', 'user'];

  @Property({ type: 'Date', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true })
  sharedBy?: User | null;
}

export enum PatientEventKind {
  PATIENT_CREATED = 'PATIENT_CREATED',
  PATIENT_CHANGED = 'PATIENT_CHANGED',
  NOTE_ADDED = 'NOTE_ADDED',
  /** generateReport covered the patient's images (reportId names the report). */
  REPORT_GENERATED = 'REPORT_GENERATED',
}

/**
 * Events about a patient that no other table records (created, changed with the fields changed,
 * notes). Lesions, images, predictions and segmentations are read from their own tables for the timeline.
 */
@Entity({ tableName: 'patient_events' })
@Index({ name: 'patient_events_patient_created_idx', properties: ['patient', 'createdAt'] })
export class PatientEvent {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Patient, { deleteRule: 'cascade' })
  patient!: Patient;

  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true })
  actor?: User | null;

  @Enum({ items: () => PatientEventKind, nativeEnumName: 'patient_event_kind' })
  kind!: PatientEventKind;

  /** PATIENT_CHANGED: the names of the fields that changed. */
  @Property({ type: 'json', nullable: true })
  changedFields?: string[] | null;

  /** NOTE_ADDED: the note. */
  @Property({ type: 'text', nullable: true })
  text?: string | null;

  /** REPORT_GENERATED: the report (kept after the report is deleted, as history). */
  @Property({ type: 'uuid', nullable: true })
  reportId?: string | null;

  @Property({ type: 'Date', columnType: 'timestamptz' })
  createdAt: Date = new Date();
}
