import { Migration } from '@mikro-orm/migrations';

/**
 * Abstention ([14]): the image-quality figures of the pixels classified, the flags, whether the result
 * abstains, its distance from the decision threshold and the margin in force. Null on rows stored
 * before (not assessed).
 */
export class Migration20261203160000_prediction_abstention extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "predictions" add column "quality" jsonb null, add column "flags" jsonb null, add column "abstained" boolean null, add column "decision_margin" double precision null, add column "abstain_margin" double precision null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "predictions" drop column "quality", drop column "flags", drop column "abstained", drop column "decision_margin", drop column "abstain_margin";`,
    );
  }
}
