import { Migration } from '@mikro-orm/migrations';

/**
 * Severity on the lesion ([14]): `circularity` is now the largest component's, the all-pieces figure
 * has its own column. Rows stored before keep their (all-pieces) circularity in both, and a null
 * component count says so.
 */
export class Migration20261203100000_segmentation_lesion extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "segmentations" add column "all_pieces_circularity" double precision null, add column "component_count" int null;`,
    );
    this.addSql(`update "segmentations" set "all_pieces_circularity" = "circularity";`);
    this.addSql(`alter table "segmentations" alter column "all_pieces_circularity" set not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "segmentations" drop column "all_pieces_circularity", drop column "component_count";`);
  }
}
