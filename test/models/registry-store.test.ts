import { loadConfig } from '../../src/infra/config';
import { connectRedis, type RedisConnections } from '../../src/infra/messaging/redis';
import { openDatabase, type Database } from '../../src/infra/database/database';
import { createLogger } from '../../src/infra/observability/logger';
import { PgRegistryStore } from '../../src/models-registry/sync/pg-store';
import { RedisRegistryBus } from '../../src/models-registry/sync/redis-bus';
import { registryBusContract, registryStoreContract } from '../fixtures/models/registry-store-contract';
import { createTestDatabase, testRedisPrefix } from '../support/database';
import { TEST_REDIS_URL } from '../support/env';

/** The PostgreSQL store and the Redis bus pass the same contract as the in-memory forms. */
let db: Database;
let redis: RedisConnections;
const buses: RedisRegistryBus[] = [];

beforeAll(async () => {
  const config = loadConfig({ DATABASE_URL: await createTestDatabase(), LOG_LEVEL: 'silent' });
  db = await openDatabase(config, createLogger(config));
  redis = await connectRedis(TEST_REDIS_URL, testRedisPrefix());
});
afterAll(async () => {
  for (const b of buses) await b.close();
  await redis?.close();
  await db?.close();
});

registryStoreContract('PostgreSQL', async () => {
  await db.orm.em.fork().getConnection().execute('delete from model_versions');
  return new PgRegistryStore(() => db.orm.em.fork());
});

registryBusContract('Redis', async () => {
  const bus = new RedisRegistryBus(redis.main, { url: redis.url }, redis.prefix);
  buses.push(bus);
  return bus;
});

describe('PgRegistryStore', () => {
  it('keeps one active version per model even when two processes activate at once', async () => {
    await db.orm.em.fork().getConnection().execute('delete from model_versions');
    const a = new PgRegistryStore(() => db.orm.em.fork());
    const b = new PgRegistryStore(() => db.orm.em.fork());
    const rec = (version: string) => ({
      name: 'race',
      version,
      task: 'classification' as const,
      modelSha256: 'b'.repeat(64),
      packageDir: `/p/${version}`,
      status: 'READY' as const,
      device: null,
      uploadedBy: null,
      createdAt: new Date(),
      loadedAt: null,
      error: null,
    });
    for (const v of ['1.0.0', '2.0.0', '3.0.0']) await a.recordVersion(rec(v));
    await Promise.all([a.setActive('race', '1.0.0'), b.setActive('race', '2.0.0'), a.setActive('race', '3.0.0')]);
    const active = await a.activeVersions();
    expect(active).toHaveLength(1);
    const statuses = await Promise.all(
      ['1.0.0', '2.0.0', '3.0.0'].map(async (v) => (await a.getVersion('race', v))!.status),
    );
    expect(statuses.filter((s) => s === 'ACTIVE')).toEqual(['ACTIVE']);
    expect((await a.listVersions()).map((r) => r.version)).toEqual(['1.0.0', '2.0.0', '3.0.0']);
  });
});
