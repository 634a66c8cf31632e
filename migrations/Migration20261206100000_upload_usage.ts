import { Migration } from '@mikro-orm/migrations';

/**
 * Uploads count against their monthly quota from the month's usage row, like predictions and segmentations:
 * the upload's own transaction moves the row on. Counting the month's images instead cost every upload two
 * scans over all of them (the early check and the exact one under the quota's lock), so a busy account's
 * uploads got slower, and held that lock longer, as its month went on; and because the count was correlated
 * with `users`, PostgreSQL could plan it as a scan of every account's images, so one busy account slowed all.
 */
export class Migration20261206100000_upload_usage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "prediction_usage" add column "uploads" int not null default 0;`);
    // The uploads already stored, counted once; from here on the transaction that stores them counts them.
    this.addSql(`insert into "prediction_usage" ("owner_id", "month", "uploads")
      select "uploaded_by_id", date_trunc('month', "created_at" at time zone 'UTC')::date, count(*)::int from "images"
      where "uploaded_by_id" is not null group by 1, 2
      on conflict ("owner_id", "month") do update set "uploads" = excluded."uploads";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "prediction_usage" drop column "uploads";`);
  }
}
