import { Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from './user';

/**
 * Uploads, predictions and segmentations a user made in a calendar month (UTC), moved on by the
 * statement that stores them, so the quota check on every upload and inference request and the
 * dashboard read one row instead of counting a busy user's whole month each time. (The table's name
 * is from when it held predictions only.) Deleting an image or a result gives nothing back: a quota
 * counts what was made.
 */
@Entity({ tableName: 'prediction_usage' })
export class PredictionUsage {
  [PrimaryKeyProp]?: ['owner', 'month'];

  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade' })
  owner!: User;

  /** The month's first day, UTC (YYYY-MM-DD). */
  @PrimaryKey({ type: 'date' })
  month!: string;

  /** Predictions. */
  @Property({ type: 'integer' })
  count: number = 0;

  @Property({ type: 'integer', default: 0 })
  segmentations: number = 0;

  @Property({ type: 'integer', default: 0 })
  uploads: number = 0;
}
