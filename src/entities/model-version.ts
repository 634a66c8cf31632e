import { Entity, Index, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';

/**
 * One version of a model package known to the registry (src/models-registry). `active` is the
 * pointer processes read at start: at most one active version per model name (a partial unique
 * index in the migration enforces it). Statuses: LOADING, READY, ACTIVE, FAILED, DRAINING, UNLOADED.
 */
@Entity({ tableName: 'model_versions' })
@Unique({ name: 'model_versions_name_version_unique', properties: ['name', 'version'] })
@Index({
  name: 'model_versions_one_active',
  expression: 'create unique index "model_versions_one_active" on "model_versions" ("name") where "active"',
})
export class ModelVersion extends BaseEntity {
  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  version!: string;

  /** classification or segmentation. */
  @Property({ type: 'text' })
  task!: string;

  /** sha256 of the ONNX file. */
  @Property({ type: 'text' })
  modelSha256!: string;

  /** Folder holding the package (shared storage in a scaled-out deployment). */
  @Property({ type: 'text' })
  packageDir!: string;

  @Property({ type: 'text' })
  status!: string;

  @Property({ type: 'boolean', default: false })
  active: boolean = false;

  @Property({ type: 'text', nullable: true })
  deviceRequested?: string | null;

  @Property({ type: 'text', nullable: true })
  deviceActual?: string | null;

  @Property({ type: 'text', nullable: true })
  deviceFallbackReason?: string | null;

  /** Who uploaded it (null: found on disk at start or by MODEL_WATCH). */
  @Property({ type: 'text', nullable: true })
  uploadedBy?: string | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  loadedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;
}
