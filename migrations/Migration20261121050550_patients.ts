import { Migration } from '@mikro-orm/migrations';

export class Migration20261121050550_patients extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "patient_sex" as enum ('FEMALE', 'MALE', 'OTHER', 'UNKNOWN');`);
    this.addSql(`create type "patient_event_kind" as enum ('PATIENT_CREATED', 'PATIENT_CHANGED', 'NOTE_ADDED');`);
    this.addSql(`create type "image_format" as enum ('JPEG', 'PNG', 'WEBP', 'TIFF');`);
    this.addSql(
      `create table "patients" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "external_id" text not null, "display_name" text not null, "date_of_birth" date null, "sex" "patient_sex" null, "notes" text null, "archived_at" timestamptz null, constraint "patients_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "patients_owner_created_idx" on "patients" ("owner_id", "created_at");`);
    this.addSql(
      `alter table "patients" add constraint "patients_owner_external_id_unique" unique ("owner_id", "external_id");`,
    );

    this.addSql(
      `create table "patient_shares" ("patient_id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null, "shared_by_id" uuid null, constraint "patient_shares_pkey" primary key ("patient_id", "user_id"));`,
    );

    this.addSql(
      `create table "patient_events" ("id" uuid not null, "patient_id" uuid not null, "actor_id" uuid null, "kind" "patient_event_kind" not null, "changed_fields" jsonb null, "text" text null, "created_at" timestamptz not null, constraint "patient_events_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "patient_events_patient_created_idx" on "patient_events" ("patient_id", "created_at");`);

    this.addSql(
      `create table "lesions" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "patient_id" uuid not null, "body_site" text not null, "label" text not null, "created_by_id" uuid null, constraint "lesions_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "lesions_patient_created_idx" on "lesions" ("patient_id", "created_at");`);

    this.addSql(
      `create table "images" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "patient_id" uuid not null, "lesion_id" uuid null, "uploaded_by_id" uuid null, "sha256" text not null, "format" "image_format" not null, "mime_type" text not null, "byte_size" bigint not null, "width" int not null, "height" int not null, "orientation" smallint not null default 1, "original_name" text null, constraint "images_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "images_sha256_idx" on "images" ("sha256");`);
    this.addSql(`create index "images_uploaded_by_created_idx" on "images" ("uploaded_by_id", "created_at");`);
    this.addSql(`create index "images_lesion_created_idx" on "images" ("lesion_id", "created_at");`);
    this.addSql(`create index "images_patient_created_idx" on "images" ("patient_id", "created_at");`);

    this.addSql(
      `alter table "patients" add constraint "patients_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "patient_shares" add constraint "patient_shares_patient_id_foreign" foreign key ("patient_id") references "patients" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "patient_shares" add constraint "patient_shares_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "patient_shares" add constraint "patient_shares_shared_by_id_foreign" foreign key ("shared_by_id") references "users" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "patient_events" add constraint "patient_events_patient_id_foreign" foreign key ("patient_id") references "patients" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "patient_events" add constraint "patient_events_actor_id_foreign" foreign key ("actor_id") references "users" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "lesions" add constraint "lesions_patient_id_foreign" foreign key ("patient_id") references "patients" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "lesions" add constraint "lesions_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "images" add constraint "images_patient_id_foreign" foreign key ("patient_id") references "patients" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "images" add constraint "images_lesion_id_foreign" foreign key ("lesion_id") references "lesions" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "images" add constraint "images_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "users" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "patient_shares" drop constraint "patient_shares_patient_id_foreign";`);

    this.addSql(`alter table "patient_events" drop constraint "patient_events_patient_id_foreign";`);

    this.addSql(`alter table "lesions" drop constraint "lesions_patient_id_foreign";`);

    this.addSql(`alter table "images" drop constraint "images_patient_id_foreign";`);

    this.addSql(`alter table "images" drop constraint "images_lesion_id_foreign";`);

    this.addSql(`drop table if exists "patients" cascade;`);

    this.addSql(`drop table if exists "patient_shares" cascade;`);

    this.addSql(`drop table if exists "patient_events" cascade;`);

    this.addSql(`drop table if exists "lesions" cascade;`);

    this.addSql(`drop table if exists "images" cascade;`);

    this.addSql(`drop type "patient_sex";`);
    this.addSql(`drop type "patient_event_kind";`);
    this.addSql(`drop type "image_format";`);
  }
}
