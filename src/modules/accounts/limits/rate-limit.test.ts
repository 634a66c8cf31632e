import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { getGraphQLRateLimiter, RedisStore } from 'graphql-rate-limit';
import type { GraphQLResolveInfo } from 'graphql';
import { MemoryCounterStore, RedisCounterStore, type CounterStore } from './counter-store';
import { RateLimiter } from './rate-limit';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Runs `n` attempts at once and counts how they ended. */
async function burst(n: number, attempt: () => Promise<void>) {
  const results = await Promise.allSettled(Array.from({ length: n }, attempt));
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return { passed: results.length - rejected.length, rejected };
}

describe('rate limits on real Redis', () => {
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });
  beforeEach(() => {
    prefix = `dg-test:${randomUUID()}:`;
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('20 concurrent attempts against max 5 let exactly 5 through (atomic store)', async () => {
    // Each attempt has its own connection, as separate api processes would.
    const clients = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
    try {
      const limiters = clients.map((c) => new RateLimiter(new RedisCounterStore(c, prefix)));
      let i = 0;
      const rule = { name: 'login', max: 5, windowMs: 60_000 };
      const { passed, rejected } = await burst(20, () =>
        limiters[i++ % 4].consume(rule, { kind: 'account', id: 'jane@example.org' }),
      );
      expect(passed).toBe(5);
      expect(rejected).toHaveLength(15);
      for (const r of rejected) {
        expect(r.reason.extensions).toMatchObject({ code: 'RATE_LIMITED' });
        expect(r.reason.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(r.reason.extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
      // Another account and another bucket are not affected.
      await expect(limiters[0].consume(rule, { kind: 'account', id: 'bob@example.org' })).resolves.toBeUndefined();
      await expect(
        limiters[0].consume({ ...rule, name: 'passwordReset' }, { kind: 'account', id: 'jane@example.org' }),
      ).resolves.toBeUndefined();
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('for contrast: the stock RedisStore of graphql-rate-limit lets more than 5 through', async () => {
    const limiter = getGraphQLRateLimiter({ store: new RedisStore(redis), identifyContext: () => `${prefix}ip` });
    const info = { fieldName: 'login' } as GraphQLResolveInfo;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter({ parent: undefined, args: {}, context: {}, info }, { max: 5, window: '60s' }),
      ),
    );
    expect(results.filter((r) => r === undefined).length).toBeGreaterThan(5);
    await redis.del(`redis-store-id::${prefix}ip:login`);
  });

  it('the window is fixed: the key expires at window end, and counting restarts', async () => {
    const store = new RedisCounterStore(redis, prefix);
    expect(await store.increment('k', 300)).toEqual({ count: 1, ttlMs: 300 });
    const second = await store.increment('k', 300);
    expect(second.count).toBe(2);
    expect(second.ttlMs).toBeLessThanOrEqual(300);
    expect(await redis.pttl(`${prefix}k`)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(await store.peek('k')).toBeNull();
    expect((await store.increment('k', 300)).count).toBe(1);
  });

  it('sliding mode restarts the expiry at every hit; reset deletes', async () => {
    const store = new RedisCounterStore(redis, prefix);
    await store.increment('s', 10_000, 'sliding');
    // Shortened, not near expiry: a key about to expire could be gone by the next hit on a busy machine.
    await redis.pexpire(`${prefix}s`, 5_000);
    const s = await store.increment('s', 10_000, 'sliding');
    expect(s.count).toBe(2);
    expect(s.ttlMs).toBe(10_000);
    await store.reset('s');
    expect(await store.peek('s')).toBeNull();
  });
});

describe('rate limits in memory (embedded mode)', () => {
  it('20 concurrent attempts against max 5 let exactly 5 through', async () => {
    const limiter = new RateLimiter(new MemoryCounterStore());
    const { passed, rejected } = await burst(20, () =>
      limiter.consume({ name: 'login', max: 5, windowMs: 60_000 }, { kind: 'ip', id: '203.0.113.9' }),
    );
    expect(passed).toBe(5);
    expect(rejected[0].reason.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 60 });
  });

  it('counts down retryAfterSeconds and opens again after the window', async () => {
    let t = 1_000_000;
    const store: CounterStore = new MemoryCounterStore(() => t);
    const limiter = new RateLimiter(store);
    const rule = { name: 'reset', max: 1, windowMs: 60_000 };
    await limiter.consume(rule, { kind: 'ip', id: 'a' });
    t += 45_000;
    await expect(limiter.consume(rule, { kind: 'ip', id: 'a' })).rejects.toMatchObject({
      extensions: { retryAfterSeconds: 15 },
    });
    t += 15_000;
    await expect(limiter.consume(rule, { kind: 'ip', id: 'a' })).resolves.toBeUndefined();
  });

  it('consumeAll counts every subject and throws when any is over', async () => {
    const store = new MemoryCounterStore();
    const limiter = new RateLimiter(store);
    const rule = { name: 'login', max: 2, windowMs: 60_000 };
    const ip = { kind: 'ip' as const, id: '198.51.100.1' };
    await limiter.consumeAll(rule, [ip, { kind: 'account', id: 'a@x.org' }]);
    await limiter.consumeAll(rule, [ip, { kind: 'account', id: 'b@x.org' }]);
    await expect(limiter.consumeAll(rule, [ip, { kind: 'account', id: 'c@x.org' }])).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
    expect((await store.peek('login|account:c@x.org'))?.count).toBe(1);
  });
});
