import { Migration } from '@mikro-orm/migrations';

/** Audit rows name the request that wrote them (the x-request-id its log lines and jobs carry). */
export class Migration20261202100000_audit_request_id extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "audit_log" add column if not exists "request_id" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "audit_log" drop column if exists "request_id";`);
  }
}
