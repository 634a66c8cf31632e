import { Entity, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { User } from './user';

/**
 * Predictions and segmentations a user made in a calendar month (UTC), moved on by the statement
 * that stores them, so the quota check on every inference request and the dashboard read one row
 * instead of counting a busy user's whole month of results each time.
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
}
