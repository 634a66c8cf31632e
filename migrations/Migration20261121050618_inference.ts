import { Migration } from '@mikro-orm/migrations';

export class Migration20261121050618_inference extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "inference_job_kind" as enum ('CLASSIFY', 'SEGMENT');`);
    this.addSql(`create type "inference_job_status" as enum ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');`);
    this.addSql(`create type "lesion_severity" as enum ('LOW', 'MODERATE', 'HIGH');`);
    this.addSql(
      `create table "inference_jobs" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "kind" "inference_job_kind" not null, "status" "inference_job_status" not null default 'QUEUED', "stage" text not null default 'queued', "progress" double precision not null default 0, "error" text null, "attempts" int not null default 0, "request" jsonb not null, "result_ids" jsonb not null, "total" int not null default 1, "started_at" timestamptz null, "finished_at" timestamptz null, constraint "inference_jobs_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "inference_jobs_status_index" on "inference_jobs" ("status");`);
    this.addSql(
      `create index "inference_jobs_owner_id_created_at_index" on "inference_jobs" ("owner_id", "created_at");`,
    );

    this.addSql(
      `create table "segmentations" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "job_id" uuid null, "image_id" uuid not null, "patient_id" uuid null, "members" jsonb not null, "threshold" double precision not null, "mask_sha256" text not null, "probability_sha256" text not null, "overlay_sha256" text not null, "width" int not null, "height" int not null, "area_percent" double precision not null, "area_pixels" int not null, "perimeter_pixels" double precision not null, "circularity" double precision not null, "mean_intensity" double precision not null, "std_intensity" double precision not null, "dice" double precision null, "jaccard" double precision null, "severity" "lesion_severity" not null, constraint "segmentations_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "segmentations_severity_index" on "segmentations" ("severity");`);
    this.addSql(`create index "segmentations_image_id_index" on "segmentations" ("image_id");`);
    this.addSql(
      `create index "segmentations_patient_id_created_at_index" on "segmentations" ("patient_id", "created_at");`,
    );
    this.addSql(
      `create index "segmentations_owner_id_created_at_index" on "segmentations" ("owner_id", "created_at");`,
    );

    this.addSql(
      `create table "predictions" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "owner_id" uuid not null, "job_id" uuid null, "image_id" uuid not null, "patient_id" uuid null, "label" text not null, "confidence" double precision not null, "malignant" boolean not null, "malignant_probability" double precision not null, "probabilities" jsonb not null, "members" jsonb not null, "grad_cam_method" text null, "grad_cam_target" text null, "grad_cam_model" text null, "grad_cam_map_sha256" text null, "grad_cam_heatmap_sha256" text null, constraint "predictions_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "predictions_image_id_index" on "predictions" ("image_id");`);
    this.addSql(
      `create index "predictions_patient_id_created_at_index" on "predictions" ("patient_id", "created_at");`,
    );
    this.addSql(`create index "predictions_owner_id_created_at_index" on "predictions" ("owner_id", "created_at");`);

    this.addSql(
      `alter table "inference_jobs" add constraint "inference_jobs_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "segmentations" add constraint "segmentations_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "segmentations" add constraint "segmentations_job_id_foreign" foreign key ("job_id") references "inference_jobs" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "predictions" add constraint "predictions_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "predictions" add constraint "predictions_job_id_foreign" foreign key ("job_id") references "inference_jobs" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "segmentations" drop constraint "segmentations_job_id_foreign";`);

    this.addSql(`alter table "predictions" drop constraint "predictions_job_id_foreign";`);

    this.addSql(`drop table if exists "inference_jobs" cascade;`);

    this.addSql(`drop table if exists "segmentations" cascade;`);

    this.addSql(`drop table if exists "predictions" cascade;`);

    this.addSql(`drop type "inference_job_kind";`);
    this.addSql(`drop type "inference_job_status";`);
    this.addSql(`drop type "lesion_severity";`);
  }
}
