import { Migration } from '@mikro-orm/migrations';

export class Migration20261121094713_prediction_usage extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "prediction_usage" ("owner_id" uuid not null, "month" date not null, "count" int not null default 0, constraint "prediction_usage_pkey" primary key ("owner_id", "month"));`,
    );

    this.addSql(
      `alter table "prediction_usage" add constraint "prediction_usage_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    // The predictions already stored, counted once; from here on the statement that stores them counts them.
    this.addSql(`insert into "prediction_usage" ("owner_id", "month", "count")
      select "owner_id", date_trunc('month', "created_at" at time zone 'UTC')::date, count(*)::int from "predictions" group by 1, 2;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "prediction_usage" cascade;`);
  }
}
