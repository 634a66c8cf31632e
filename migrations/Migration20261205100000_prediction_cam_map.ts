import { Migration } from '@mikro-orm/migrations';

/**
 * [12] The Grad-CAM map (a few hundred bytes: the CAM at feature resolution, jobs/cam-map-file.ts) is kept in
 * its prediction row instead of a file of its own: storing a file cost a job five trips through the thread
 * pool. The index finds a map by the sha256 that heatmap URLs name; rows stored before keep their map file
 * (grad_cam_map null) and are read from the store.
 */
export class Migration20261205100000_prediction_cam_map extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "predictions" add column "grad_cam_map" bytea null;`);
    this.addSql(
      `create index "predictions_grad_cam_map_sha256_index" on "predictions" ("grad_cam_map_sha256") where "grad_cam_map" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "predictions_grad_cam_map_sha256_index";`);
    this.addSql(`alter table "predictions" drop column "grad_cam_map";`);
  }
}
