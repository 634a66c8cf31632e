import { Migration } from '@mikro-orm/migrations';

/**
 * User administration ([13]): when an account was invited (its invitation is pending until a
 * password is set through the link), and when it was deleted (an anonymised row kept because
 * records point at it).
 */
export class Migration20261202200000_user_admin extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "users" add column "invited_at" timestamptz null, add column "deleted_at" timestamptz null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop column "invited_at", drop column "deleted_at";`);
  }
}
