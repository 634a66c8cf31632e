import { Migration } from '@mikro-orm/migrations';

/** cancelJob: a job can end CANCELLED (JobStatus.CANCELLED). */
export class Migration20261201100000_job_cancelled extends Migration {
  override async up(): Promise<void> {
    // Allowed in a transaction (PostgreSQL 12+); the value is not used before the transaction commits.
    this.addSql(`alter type "inference_job_status" add value if not exists 'CANCELLED';`);
  }

  override async down(): Promise<void> {
    // An enum value cannot be dropped: the type is rebuilt without it, cancelled jobs read FAILED.
    this.addSql(
      `update "inference_jobs" set "status" = 'FAILED', "error" = coalesce("error", 'cancelled') where "status" = 'CANCELLED';`,
    );
    this.addSql(`alter type "inference_job_status" rename to "inference_job_status_old";`);
    this.addSql(`create type "inference_job_status" as enum ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');`);
    this.addSql(`alter table "inference_jobs" alter column "status" drop default;`);
    this.addSql(
      `alter table "inference_jobs" alter column "status" type "inference_job_status" using "status"::text::"inference_job_status";`,
    );
    this.addSql(`alter table "inference_jobs" alter column "status" set default 'QUEUED';`);
    this.addSql(`drop type "inference_job_status_old";`);
  }
}
