import { randomUUID } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';
import { SHIPPED_ENSEMBLES } from '../src/models-registry/ensembles/shipped-ensembles';

/** A SQL string literal (addSql takes no parameters; the values are the shipped constants). */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * [14] Named classification ensembles in the registry (seeded once with SHIPPED_ENSEMBLES: a new
 * database gets the shipped weights as they are when it is migrated), and on predictions what
 * each member said: the ensemble's name and the members' disagreement (their own outputs go in
 * the `members` json).
 */
export class Migration20261203150000_classification_ensembles extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "classification_ensembles" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "name" text not null, "members" jsonb not null, "description" text null, "updated_by" text null, constraint "classification_ensembles_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "classification_ensembles" add constraint "classification_ensembles_name_unique" unique ("name");`,
    );
    for (const e of SHIPPED_ENSEMBLES) {
      const values = [randomUUID(), e.name, JSON.stringify(e.members), e.description].map(literal);
      this.addSql(
        `insert into "classification_ensembles" ("id", "created_at", "updated_at", "name", "members", "description") values (${values[0]}, now(), now(), ${values[1]}, ${values[2]}::jsonb, ${values[3]});`,
      );
    }
    this.addSql(
      `alter table "predictions" add column "ensemble" text null, add column "member_malignant_spread" double precision null, add column "member_malignant_std_dev" double precision null, add column "members_disagree" boolean null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "predictions" drop column "ensemble", drop column "member_malignant_spread", drop column "member_malignant_std_dev", drop column "members_disagree";`,
    );
    this.addSql(`drop table if exists "classification_ensembles" cascade;`);
  }
}
