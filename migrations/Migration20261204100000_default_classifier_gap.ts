import { randomUUID } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';
import {
  DEFAULT_ENSEMBLE,
  GAP_MLP_AVERAGE,
  SHIPPED_ENSEMBLES,
} from '../src/models-registry/ensembles/shipped-ensembles';

/** A SQL string literal (addSql takes no parameters; the values are constants). */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What 20261203150000 seeded `default-classifier` with before the default became dg-gap-classifier alone. */
export const FIRST_DEFAULT_SEED = {
  description: 'The two shipped classifiers, averaged (the default classifier when DEFAULT_CLASSIFIER is unset)',
  members: [
    { model: 'dg-gap-classifier', version: null, weight: 1 },
    { model: 'dg-mlp-classifier', version: null, weight: 1 },
  ],
};

const shipped = (name: string) => SHIPPED_ENSEMBLES.find((e) => e.name === name)!;

/**
 * [14] The default classifier is dg-gap-classifier alone (cross-validation does not show the averaged pair
 * to be better: out-of-fold ROC AUC 0.699 against 0.697), and the pair ships as `gap-mlp-average`.
 *
 * For a database seeded before: `default-classifier` is rewritten only while its members are still the
 * first seed (an admin's own weights are kept; jsonb equality ignores key order), and `gap-mlp-average`
 * is inserted unless an ensemble of that name exists. A database created since already has both from
 * 20261203150000, so this changes nothing there.
 */
export class Migration20261204100000_default_classifier_gap extends Migration {
  override async up(): Promise<void> {
    const d = shipped(DEFAULT_ENSEMBLE);
    this.addSql(
      `update "classification_ensembles" set "members" = ${literal(JSON.stringify(d.members))}::jsonb, "description" = ${literal(d.description)}, "updated_at" = now() where "name" = ${literal(DEFAULT_ENSEMBLE)} and "members" = ${literal(JSON.stringify(FIRST_DEFAULT_SEED.members))}::jsonb;`,
    );
    const a = shipped(GAP_MLP_AVERAGE);
    this.addSql(
      `insert into "classification_ensembles" ("id", "created_at", "updated_at", "name", "members", "description") values (${literal(randomUUID())}, now(), now(), ${literal(a.name)}, ${literal(JSON.stringify(a.members))}::jsonb, ${literal(a.description)}) on conflict ("name") do nothing;`,
    );
  }

  /** Back to the first seed where the rows are still as this migration left them. */
  override async down(): Promise<void> {
    const d = shipped(DEFAULT_ENSEMBLE);
    const a = shipped(GAP_MLP_AVERAGE);
    this.addSql(
      `update "classification_ensembles" set "members" = ${literal(JSON.stringify(FIRST_DEFAULT_SEED.members))}::jsonb, "description" = ${literal(FIRST_DEFAULT_SEED.description)}, "updated_at" = now() where "name" = ${literal(DEFAULT_ENSEMBLE)} and "members" = ${literal(JSON.stringify(d.members))}::jsonb;`,
    );
    this.addSql(
      `delete from "classification_ensembles" where "name" = ${literal(a.name)} and "members" = ${literal(JSON.stringify(a.members))}::jsonb and "updated_by" is null;`,
    );
  }
}
