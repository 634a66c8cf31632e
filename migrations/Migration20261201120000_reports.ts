import { Migration } from '@mikro-orm/migrations';

/** generateReport ([10]): reports, the patients each covers, and the REPORT job kind. */
export class Migration20261201120000_reports extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "report_kind" as enum ('PDF', 'PDFS_ZIP', 'CSV', 'MASKS_ZIP');`);
    this.addSql(`create type "report_status" as enum ('PENDING', 'RUNNING', 'DONE', 'FAILED');`);
    this.addSql(
      `create table "reports" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "kind" "report_kind" not null, "status" "report_status" not null default 'PENDING', "job_id" uuid null, "image_ids" jsonb not null, "image_count" int not null, "file_name" text not null, "file_sha256" text null, "bytes" bigint null, "error" text null, "finished_at" timestamptz null, constraint "reports_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "reports_owner_id_created_at_index" on "reports" ("owner_id", "created_at");`);

    this.addSql(
      `create table "report_patients" ("report_id" uuid not null, "patient_id" uuid not null, constraint "report_patients_pkey" primary key ("report_id", "patient_id"));`,
    );
    this.addSql(`create index "report_patients_patient_id_index" on "report_patients" ("patient_id");`);

    this.addSql(
      `alter table "reports" add constraint "reports_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "reports" add constraint "reports_job_id_foreign" foreign key ("job_id") references "inference_jobs" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "report_patients" add constraint "report_patients_report_id_foreign" foreign key ("report_id") references "reports" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "report_patients" add constraint "report_patients_patient_id_foreign" foreign key ("patient_id") references "patients" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter type "inference_job_kind" add value if not exists 'REPORT' after 'SEGMENT';`);
    this.addSql(`alter type "patient_event_kind" add value if not exists 'REPORT_GENERATED' after 'NOTE_ADDED';`);
    this.addSql(`alter table "patient_events" add column "report_id" uuid null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "report_patients" drop constraint "report_patients_report_id_foreign";`);

    this.addSql(`drop table if exists "reports" cascade;`);

    this.addSql(`drop table if exists "report_patients" cascade;`);

    this.addSql(`drop type "report_kind";`);
    this.addSql(`drop type "report_status";`);
    this.addSql(`alter table "patient_events" drop column "report_id";`);
    this.addSql(`delete from "patient_events" where "kind" = 'REPORT_GENERATED';`);
    this.addSql(`alter type "patient_event_kind" rename to "patient_event_kind_old";`);
    this.addSql(`create type "patient_event_kind" as enum ('PATIENT_CREATED', 'PATIENT_CHANGED', 'NOTE_ADDED');`);
    this.addSql(
      `alter table "patient_events" alter column "kind" type "patient_event_kind" using "kind"::text::"patient_event_kind";`,
    );
    this.addSql(`drop type "patient_event_kind_old";`);
    // An enum value cannot be dropped: the type is rebuilt without REPORT, whose jobs go with it.
    this.addSql(`delete from "inference_jobs" where "kind" = 'REPORT';`);
    this.addSql(`alter type "inference_job_kind" rename to "inference_job_kind_old";`);
    this.addSql(`create type "inference_job_kind" as enum ('CLASSIFY', 'SEGMENT');`);
    this.addSql(
      `alter table "inference_jobs" alter column "kind" type "inference_job_kind" using "kind"::text::"inference_job_kind";`,
    );
    this.addSql(`drop type "inference_job_kind_old";`);
  }
}
