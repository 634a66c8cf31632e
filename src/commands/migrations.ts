import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../infra/config';
import { projectRoot } from '../infra/paths';
import { openDatabase } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';

const MIGRATIONS_DIR = path.join(projectRoot, 'migrations');

/** Applies pending migrations and exits. */
export async function migrate(config: Config, logger: Logger): Promise<void> {
  const db = await openDatabase(config, logger);
  await db.close();
}

/**
 * Writes a migration with the SQL that takes the database at DATABASE_URL (migrated to the
 * latest) to the entities' schema, then relists migrations/index.ts.
 */
export async function createMigration(config: Config, logger: Logger, name: string): Promise<string | undefined> {
  const db = await openDatabase(config, logger);
  try {
    const migrator = db.orm.getMigrator();
    const result = await migrator.createMigration(MIGRATIONS_DIR, false, false, name);
    if (!result.diff.up.length) {
      logger.info('entities and migrations agree; nothing to write');
      return undefined;
    }
    await writeMigrationIndex();
    return result.fileName;
  } finally {
    await db.close();
  }
}

async function writeMigrationIndex(): Promise<void> {
  const files = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => /^Migration\d+.*\.ts$/.test(f)).sort();
  const names = files.map((f) => f.replace(/\.ts$/, ''));
  const body = [
    "import type { MigrationObject } from '@mikro-orm/core';",
    ...names.map((n) => `import { ${n} } from './${n}';`),
    '',
    '/**',
    ' * Every migration, in order. Listed by hand (not globbed) so the same list works from the',
    ' * TypeScript sources under Jest and from dist/ at run time. `npm run migration:create` rewrites it.',
    ' */',
    'export const migrationsList: MigrationObject[] = [',
    ...names.map((n) => `  { name: '${n}', class: ${n} },`),
    '];',
    '',
  ].join('\n');
  await fs.writeFile(path.join(MIGRATIONS_DIR, 'index.ts'), body);
}
