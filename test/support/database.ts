import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TEST_PG_URL, withDatabase } from './env';

/** A fresh database for one test file, cloned from the run's migrated template. Returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const runId = process.env.DG_TEST_RUN_ID;
  const template = process.env.DG_TEST_TEMPLATE_DB;
  if (!runId || !template) throw new Error('test/support/global-setup.ts did not run');
  const name = `dg_t_${runId}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    // CREATE DATABASE ... TEMPLATE fails while another session is cloning the same template; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database "${name}" template "${template}"`);
        break;
      } catch (err) {
        if (attempt > 50 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return withDatabase(TEST_PG_URL, name);
}

/** A Redis key prefix unique to one test file within the run (global teardown deletes them). */
export function testRedisPrefix(): string {
  return `dg:test:${process.env.DG_TEST_RUN_ID}:${randomBytes(4).toString('hex')}:`;
}
