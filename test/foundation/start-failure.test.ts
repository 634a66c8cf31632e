import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/observability/logger';
import { startServer } from '../../src/app/start';
import { createTestDatabase, testRedisPrefix } from '../support/database';
import { TEST_PG_URL, TEST_REDIS_URL } from '../support/env';
import { startTestServer } from '../support/server';
import { lockDataDir } from '../../src/infra/database/data-dir-lock';
import { CLI } from '../../bench/serve-process';

describe('a start that fails half-way', () => {
  it('rejects and closes the database connections it opened', async () => {
    const first = await startTestServer();
    const url = await createTestDatabase();
    const name = new URL(url).pathname.slice(1);
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: String(first.port),
      DATA_DIR: first.dataDir,
      DATABASE_URL: url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testRedisPrefix(),
    });
    try {
      await expect(startServer(config, { logger: createLogger(config) })).rejects.toThrow(/EADDRINUSE/);
      const admin = new Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      const { rows } = await admin.query<{ n: string }>(
        'select count(*) as n from pg_stat_activity where datname = $1',
        [name],
      );
      await admin.end();
      expect(Number(rows[0].n)).toBe(0);
    } finally {
      await first.close();
    }
  });

  // Issue [7], "The embedded database": the DATA_DIR lock is released by a failed start too, or the
  // next `npm start` (or create-admin) would be refused by a process that no longer runs. (PGlite
  // cannot load inside Jest's VM, so this runs the built `dermagraph serve`.)
  it('in embedded mode, releases the DATA_DIR lock and removes the socket', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-start-failure-'));
    try {
      const env = {
        PATH: process.env.PATH ?? '',
        DATA_DIR: dataDir,
        PORT: String((blocker.address() as AddressInfo).port),
        LOG_LEVEL: 'error',
      };
      const failed = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(process.execPath, [CLI, 'serve'], { env, timeout: 120_000 }, (err, _out, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
        ),
      );
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/EADDRINUSE/);
      expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
      expect(fs.existsSync(path.join(dataDir, 'pglite-socket', '.s.PGSQL.5432'))).toBe(false);
      lockDataDir(dataDir).release();
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
