import { Migration } from '@mikro-orm/migrations';

export class Migration20261121053033_inference_unique extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "segmentations" add constraint "segmentations_job_image_unique" unique ("job_id", "image_id");`,
    );

    this.addSql(
      `alter table "predictions" add constraint "predictions_job_image_unique" unique ("job_id", "image_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "predictions" drop constraint "predictions_job_image_unique";`);

    this.addSql(`alter table "segmentations" drop constraint "segmentations_job_image_unique";`);
  }
}
