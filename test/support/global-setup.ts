import 'reflect-metadata';
import { Client } from 'pg';
import { loadConfig } from '../../src/infra/config';
import { openDatabase } from '../../src/infra/database/database';
import { createLogger } from '../../src/infra/observability/logger';
import { buildCliIfStale } from './build-cli';
import { TEST_PG_URL, withDatabase } from './env';

/**
 * Once per `npm test`: a template database migrated from the committed migrations. Each test file
 * clones it (CREATE DATABASE ... TEMPLATE), so files run in parallel on databases of their own and
 * runs on one machine never collide. Databases of runs older than an hour (crashed runs) are dropped.
 */
export default async function globalSetup(): Promise<void> {
  buildCliIfStale();
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const template = `dg_tpl_${runId}`;
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      "select datname from pg_database where datname ~ '^dg_(tpl|t)_'",
    );
    const hourAgo = Date.now() - 3600_000;
    for (const { datname } of rows) {
      const born = parseInt(datname.split('_')[2].slice(0, 8), 36);
      if (born < hourAgo) await admin.query(`drop database if exists "${datname}" with (force)`);
    }
    await admin.query(`create database "${template}"`);
  } finally {
    await admin.end();
  }
  const config = loadConfig({ DATABASE_URL: withDatabase(TEST_PG_URL, template), LOG_LEVEL: 'warn', NODE_ENV: 'test' });
  const db = await openDatabase(config, createLogger({ LOG_LEVEL: 'warn' }));
  await db.close();
  // With one test file Jest runs it in this process: MikroORM's global metadata cache from the
  // migration above would leak into the test's realm ("Map.prototype.set called on incompatible receiver").
  for (const key of Object.keys(globalThis))
    if (key.startsWith('mikro-orm-')) delete (globalThis as Record<string, unknown>)[key];
  process.env.DG_TEST_RUN_ID = runId;
  process.env.DG_TEST_TEMPLATE_DB = template;
}
