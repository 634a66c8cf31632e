import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/server/logger';
import { startServer } from '../../src/server/start';
import { createTestDatabase, testRedisPrefix } from '../support/database';
import { TEST_PG_URL, TEST_REDIS_URL } from '../support/env';
import { startTestServer } from '../support/server';

describe('a start that fails half-way', () => {
  it('rejects and closes the database connections it opened', async () => {
    const first = await startTestServer();
    const url = await createTestDatabase();
    const name = new URL(url).pathname.slice(1);
    const config = loadConfig({
      NODE_ENV: 'test', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: String(first.port), DATA_DIR: first.dataDir,
      DATABASE_URL: url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testRedisPrefix(),
    });
    try {
      await expect(startServer(config, { logger: createLogger(config) })).rejects.toThrow(/EADDRINUSE/);
      const admin = new Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      const { rows } = await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
      await admin.end();
      expect(Number(rows[0].n)).toBe(0);
    } finally {
      await first.close();
    }
  });
});
