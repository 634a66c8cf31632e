import { Migration } from '@mikro-orm/migrations';

/**
 * Ensembles keep each member's output ([14]): the members' own masks and measurements go in the
 * `members` json (an `output` per member); their agreement (mean pairwise Dice) gets a column so it
 * can be filtered and aggregated. Null on rows stored before and with one member.
 */
export class Migration20261203120000_segmentation_members extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "segmentations" add column "member_agreement" double precision null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "segmentations" drop column "member_agreement";`);
  }
}
