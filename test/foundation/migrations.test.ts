import { loadConfig } from '../../src/infra/config';
import { openDatabase } from '../../src/infra/database/database';
import { createLogger } from '../../src/infra/observability/logger';
import { createTestDatabase } from '../support/database';

describe('migrations', () => {
  it('take a new database exactly to the schema the entities describe', async () => {
    const config = loadConfig({ DATABASE_URL: await createTestDatabase(), LOG_LEVEL: 'silent' });
    const db = await openDatabase(config, createLogger(config));
    try {
      const pending = await db.orm.getMigrator().getPendingMigrations();
      expect(pending).toEqual([]);
      const diff = await db.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      // A non-empty diff means an entity changed without a migration: run `npm run migration:create`.
      expect(diff.trim()).toBe('');
    } finally {
      await db.close();
    }
  });
});
