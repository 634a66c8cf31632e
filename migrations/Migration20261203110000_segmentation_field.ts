import { Migration } from '@mikro-orm/migrations';

/**
 * Segmentation post-processing ([14]): whether the lesion mask reaches the image's or the scope's field
 * edge, and how much of the image the scope's visible field is. Null on rows stored before.
 */
export class Migration20261203110000_segmentation_field extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "segmentations" add column "touches_border" boolean null, add column "field_of_view_percent" double precision null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "segmentations" drop column "touches_border", drop column "field_of_view_percent";`);
  }
}
