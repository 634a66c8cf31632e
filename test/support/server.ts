import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { loadConfig, type Config } from '../../src/infra/config';
import { createLogger } from '../../src/infra/observability/logger';
import { startServer, type RunningServer, type StartOptions } from '../../src/app/start';
import { createTestDatabase, testRedisPrefix } from './database';
import { TEST_REDIS_URL } from './env';

export interface TestServer extends RunningServer {
  config: Config;
  dataDir: string;
  /** POSTs one GraphQL operation as JSON; returns the parsed body and the HTTP status. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> & { code?: string } }>;
}

/**
 * Starts a real server for a test file: its own cloned PostgreSQL database, the real Redis with a
 * key prefix of its own (unless `redis: false`), a temporary data directory and a random port.
 */
export async function startTestServer(
  opts: StartOptions & { env?: Record<string, string>; redis?: boolean } = {},
): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-test-'));
  // A server that refuses to start (a test of a refused config, say) leaves no data directory behind.
  return startWith(dataDir, opts).catch(async (e: unknown) => {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw e;
  });
}

async function startWith(
  dataDir: string,
  opts: StartOptions & { env?: Record<string, string>; redis?: boolean },
): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: await createTestDatabase(),
    DATABASE_POOL_MAX: '4',
    REDIS_URL: opts.redis === false ? '' : TEST_REDIS_URL,
    REDIS_PREFIX: testRedisPrefix(),
    PUBLIC_URL: 'http://127.0.0.1:4000',
    // A test server is the one api of its test: with Redis it is in queue mode, where `auto` would leave
    // its models unloaded; tests of the api-without-models layout say API_LOAD_MODELS themselves.
    API_LOAD_MODELS: 'always',
    ...opts.env,
  });
  const server = await startServer(config, { logger: createLogger(config), ...opts });
  const base = server.url.replace('localhost', '127.0.0.1');
  return {
    ...server,
    url: base,
    config,
    dataDir,
    async gql(query, variables, token) {
      const res = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlResult<never>;
      return { ...body, status: res.status };
    },
    async close() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
