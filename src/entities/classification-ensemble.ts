import { Entity, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';

/** One member of a named ensemble: a model, optionally one pinned version, and its raw weight (> 0). */
export interface EnsembleMemberDefinition {
  model: string;
  /** Null: whatever version is active when a job starts. */
  version: string | null;
  weight: number;
}

/**
 * A named classification ensemble of the model registry (docs/inference.md, "Named ensembles"):
 * `classifyImage(ensemble: name)` runs its members. Kept in PostgreSQL so that every api process
 * and worker reads the same definition; the api resolves it when it queues a job, and the job
 * carries the members it resolved.
 */
@Entity({ tableName: 'classification_ensembles' })
@Unique({ name: 'classification_ensembles_name_unique', properties: ['name'] })
export class ClassificationEnsemble extends BaseEntity {
  @Property({ type: 'text' })
  name!: string;

  /** 1 to 8 members, in order (the first one's labels are the prediction's). */
  @Property({ type: 'json' })
  members!: EnsembleMemberDefinition[];

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  /** The admin who last created or changed it (a User id); null for the shipped seed. */
  @Property({ type: 'text', nullable: true })
  updatedBy?: string | null;
}
