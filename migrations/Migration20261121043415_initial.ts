import { Migration } from '@mikro-orm/migrations';

export class Migration20261121043415_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "user_role" as enum ('ADMIN', 'CLINICIAN', 'RESEARCHER');`);
    this.addSql(`create type "user_plan" as enum ('FREE', 'PRO');`);
    this.addSql(
      `create table "users" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "email" text not null, "name" text null, "role" "user_role" not null default 'CLINICIAN', "plan" "user_plan" not null default 'FREE', "password_hash" text not null, "email_verified_at" timestamptz null, "disabled_at" timestamptz null, "last_login_at" timestamptz null, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop type "user_role";`);
    this.addSql(`drop type "user_plan";`);
  }
}
