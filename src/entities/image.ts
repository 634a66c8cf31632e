import { BigIntType, Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { Lesion } from './lesion';
import { Patient } from './patient';
import { User } from './user';

export enum ImageFormat {
  JPEG = 'JPEG',
  PNG = 'PNG',
  WEBP = 'WEBP',
  TIFF = 'TIFF',
}

/**
 * An uploaded image of a patient (and optionally one of its lesions). The bytes live in the
 * content-addressed file store under `sha256`; several rows may share one file (same bytes uploaded twice).
 * Derived copies (normalised, thumbnail) are made from the file on first request and cached by the store.
 */
@Entity({ tableName: 'images' })
@Index({ name: 'images_patient_created_idx', properties: ['patient', 'createdAt'] })
@Index({ name: 'images_lesion_created_idx', properties: ['lesion', 'createdAt'] })
@Index({ name: 'images_uploaded_by_created_idx', properties: ['uploadedBy', 'createdAt'] })
@Index({ name: 'images_sha256_idx', properties: ['sha256'] })
export class Image extends BaseEntity {
  @ManyToOne(() => Patient, { deleteRule: 'restrict' })
  patient!: Patient;

  @ManyToOne(() => Lesion, { deleteRule: 'restrict', nullable: true })
  lesion?: Lesion | null;

  @ManyToOne(() => User, { deleteRule: 'set null', nullable: true })
  uploadedBy?: User | null;

  /** Hex sha256 of the original bytes: the key in the file store. */
  @Property({ type: 'text' })
  sha256!: string;

  @Enum({ items: () => ImageFormat, nativeEnumName: 'image_format' })
  format!: ImageFormat;

  @Property({ type: 'text' })
  mimeType!: string;

  @Property({ type: new BigIntType('number') })
  byteSize!: number;

  /** Pixel size as stored (before EXIF orientation). */
  @Property({ type: 'integer' })
  width!: number;

  @Property({ type: 'integer' })
  height!: number;

  /** EXIF orientation tag (1..8), 1 when absent. */
  @Property({ type: 'smallint' })
  orientation: number = 1;

  /** The client's file name, for display only (never used to decide the type). */
  @Property({ type: 'text', nullable: true })
  originalName?: string | null;
}
