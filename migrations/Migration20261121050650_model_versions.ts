import { Migration } from '@mikro-orm/migrations';

export class Migration20261121050650_model_versions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "model_versions" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "name" text not null, "version" text not null, "task" text not null, "model_sha256" text not null, "package_dir" text not null, "status" text not null, "active" boolean not null default false, "device_requested" text null, "device_actual" text null, "device_fallback_reason" text null, "uploaded_by" text null, "loaded_at" timestamptz null, "error" text null, constraint "model_versions_pkey" primary key ("id"));`,
    );
    this.addSql(`create unique index "model_versions_one_active" on "model_versions" ("name") where "active";`);
    this.addSql(
      `alter table "model_versions" add constraint "model_versions_name_version_unique" unique ("name", "version");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "model_versions" cascade;`);
  }
}
