import { Migration } from '@mikro-orm/migrations';

/**
 * The quota check inside the batch that writes what it counts (quotas.repository's quotaGuardStatement): a
 * statement calls this function for the first ask over its limit, and its error ends the transaction with nothing
 * written. The figures go in the error's detail as JSON, so the API answers the same RATE_LIMITED it answers from
 * the early check. SQLSTATE QT001: class QT is implementation-defined and PostgreSQL uses none starting with Q.
 */
export class Migration20261207100000_quota_guard extends Migration {
  override async up(): Promise<void> {
    this
      .addSql(`create or replace function "dermagraph_refuse_quota"(kind text, plan text, quota_limit int, used int, adding int)
      returns void language plpgsql as $$
      begin
        raise exception 'monthly % quota of the % plan reached', kind, plan using errcode = 'QT001',
          detail = json_build_object('kind', kind, 'plan', plan, 'limit', quota_limit, 'used', used, 'adding', adding)::text;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "dermagraph_refuse_quota"(text, text, int, int, int);`);
  }
}
