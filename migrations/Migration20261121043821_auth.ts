import { Migration } from '@mikro-orm/migrations';

export class Migration20261121043821_auth extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "email_token_purpose" as enum ('VERIFY_EMAIL', 'RESET_PASSWORD');`);
    this.addSql(
      `create table "audit_log" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "user_id" uuid null, "actor_id" uuid null, "action" text not null, "success" boolean not null, "ip" text null, "user_agent" text null, "details" jsonb null, constraint "audit_log_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "audit_log_action_created_at_index" on "audit_log" ("action", "created_at");`);
    this.addSql(`create index "audit_log_user_id_created_at_index" on "audit_log" ("user_id", "created_at");`);

    this.addSql(
      `create table "outbox" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "sender" text not null, "recipient" text not null, "subject" text not null, "text" text not null, "html" text not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "outbox_recipient_index" on "outbox" ("recipient");`);

    this.addSql(
      `create table "two_factor" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "user_id" uuid not null, "secret_encrypted" text not null, "enabled_at" timestamptz null, "last_used_step" bigint null, constraint "two_factor_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "two_factor" add constraint "two_factor_user_unique" unique ("user_id");`);

    this.addSql(
      `create table "recovery_codes" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "user_id" uuid not null, "code_hash" text not null, "used_at" timestamptz null, constraint "recovery_codes_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "recovery_codes" add constraint "recovery_codes_user_hash_unique" unique ("user_id", "code_hash");`,
    );

    this.addSql(
      `create table "email_tokens" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "user_id" uuid not null, "purpose" "email_token_purpose" not null, "token_hash" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "email_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "email_tokens" add constraint "email_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "email_tokens_user_id_purpose_index" on "email_tokens" ("user_id", "purpose");`);

    this.addSql(
      `create table "auth_sessions" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "user_id" uuid not null, "revoked_at" timestamptz null, "revoked_reason" text null, "last_used_at" timestamptz null, "ip" text null, "user_agent" text null, constraint "auth_sessions_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "auth_sessions_user_id_revoked_at_index" on "auth_sessions" ("user_id", "revoked_at");`);

    this.addSql(
      `create table "refresh_tokens" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "session_id" uuid not null, "token_hash" text not null, "expires_at" timestamptz not null, "rotated_at" timestamptz null, constraint "refresh_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash");`,
    );

    this.addSql(
      `alter table "two_factor" add constraint "two_factor_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "email_tokens" add constraint "email_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "auth_sessions" add constraint "auth_sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_session_id_foreign" foreign key ("session_id") references "auth_sessions" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_session_id_foreign";`);

    this.addSql(`drop table if exists "audit_log" cascade;`);

    this.addSql(`drop table if exists "outbox" cascade;`);

    this.addSql(`drop table if exists "two_factor" cascade;`);

    this.addSql(`drop table if exists "recovery_codes" cascade;`);

    this.addSql(`drop table if exists "email_tokens" cascade;`);

    this.addSql(`drop table if exists "auth_sessions" cascade;`);

    this.addSql(`drop table if exists "refresh_tokens" cascade;`);

    this.addSql(`drop type "email_token_purpose";`);
  }
}
