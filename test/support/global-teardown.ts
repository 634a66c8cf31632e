import { Client } from 'pg';
import Redis from 'ioredis';
import { TEST_PG_URL, TEST_REDIS_URL } from './env';
import { removeEmbeddedTemplates } from './embedded-template';

/** Drops this run's databases, Redis keys and embedded database template. */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env.DG_TEST_RUN_ID;
  if (!runId) return;
  await removeEmbeddedTemplates(runId);
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `dg\\_%\\_${runId}%`,
    ]);
    for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await admin.end();
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    const stream = redis.scanStream({ match: `dg:test:${runId}:*`, count: 500 });
    for await (const keys of stream) if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
  } catch {
    // Redis unreachable: nothing of ours is there to clean.
  } finally {
    redis.disconnect();
  }
}
