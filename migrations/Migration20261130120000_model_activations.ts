import { Migration } from '@mikro-orm/migrations';

/** The rollback history of model versions (it lived in each process's memory before). */
export class Migration20261130120000_model_activations extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "model_activations" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "name" text not null, "version" text not null, "previous_version" text null, "actor_id" text null, "rolled_back_at" timestamptz null, constraint "model_activations_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "model_activations_name_created_at_index" on "model_activations" ("name", "created_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "model_activations" cascade;`);
  }
}
