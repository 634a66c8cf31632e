import { Migration } from '@mikro-orm/migrations';

/** Segmentations count against a monthly quota like predictions: their count per user and month. */
export class Migration20261130130000_segmentation_usage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "prediction_usage" add column "segmentations" int not null default 0;`);
    // The segmentations already stored, counted once; from here on the statement that stores them counts them.
    this.addSql(`insert into "prediction_usage" ("owner_id", "month", "segmentations")
      select "owner_id", date_trunc('month', "created_at" at time zone 'UTC')::date, count(*)::int from "segmentations" group by 1, 2
      on conflict ("owner_id", "month") do update set "segmentations" = excluded."segmentations";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "prediction_usage" drop column "segmentations";`);
  }
}
