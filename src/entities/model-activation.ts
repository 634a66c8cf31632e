import { Entity, Index, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';

/**
 * One activation of a model version made on purpose (an admin's activate or upload with activate),
 * with the version it replaced: the rollback history, kept in PostgreSQL so that any process, also
 * one started after the activation, can roll back. A rollback marks the activations it undoes.
 */
@Entity({ tableName: 'model_activations' })
@Index({ name: 'model_activations_name_created_at_index', properties: ['name', 'createdAt'] })
export class ModelActivation extends BaseEntity {
  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  version!: string;

  /** The version active before this one (null: the model had none). */
  @Property({ type: 'text', nullable: true })
  previousVersion?: string | null;

  /** Who activated it (null: a process at start, or MODEL_WATCH). */
  @Property({ type: 'text', nullable: true })
  actorId?: string | null;

  /** Set when a rollback undid this activation. */
  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  rolledBackAt?: Date | null;
}
