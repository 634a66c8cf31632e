import type Redis from 'ioredis';

/** One counter change: `field` of hash `key` moves by `by`; the hash lives `ttlSeconds` after its last change. */
export interface HashIncrement {
  key: string;
  field: string;
  by: number;
  ttlSeconds: number;
}

/**
 * The few hash operations heartbeats and usage counters need, on Redis (shared by every api and
 * worker process of a deployment) or in memory (embedded mode: one process). Keys are given
 * without the deployment's prefix.
 */
export interface SharedHashes {
  set(key: string, field: string, value: string): Promise<void>;
  remove(key: string, fields: string[]): Promise<void>;
  getAll(key: string): Promise<Record<string, string>>;
  /** Each hash's fields, in the order of `keys` (an empty object for a missing hash). */
  getMany(keys: string[]): Promise<Array<Record<string, string>>>;
  /** Applied together (one round trip on Redis). */
  increment(changes: HashIncrement[]): Promise<void>;
}

export function redisHashes(redis: Redis, prefix: string): SharedHashes {
  const k = (key: string) => `${prefix}${key}`;
  return {
    async set(key, field, value) {
      await redis.hset(k(key), field, value);
    },
    async remove(key, fields) {
      if (fields.length) await redis.hdel(k(key), ...fields);
    },
    getAll: (key) => redis.hgetall(k(key)),
    async getMany(keys) {
      if (!keys.length) return [];
      const pipe = redis.pipeline();
      for (const key of keys) pipe.hgetall(k(key));
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        return (v ?? {}) as Record<string, string>;
      });
    },
    async increment(changes) {
      if (!changes.length) return;
      const pipe = redis.multi();
      const ttl = new Map<string, number>();
      for (const c of changes) {
        // Integers stay integers (HINCRBY); sums of seconds need the float form.
        if (Number.isInteger(c.by)) pipe.hincrby(k(c.key), c.field, c.by);
        else pipe.hincrbyfloat(k(c.key), c.field, c.by);
        ttl.set(c.key, Math.max(ttl.get(c.key) ?? 0, c.ttlSeconds));
      }
      for (const [key, seconds] of ttl) pipe.expire(k(key), seconds);
      await pipe.exec();
    },
  };
}

/** The same in one process's memory; expired hashes are dropped when touched. */
export function memoryHashes(now: () => number = Date.now): SharedHashes {
  const hashes = new Map<string, { fields: Map<string, string>; expiresAt: number }>();
  const live = (key: string) => {
    const h = hashes.get(key);
    if (h && h.expiresAt <= now()) hashes.delete(key);
    return hashes.get(key);
  };
  const touch = (key: string, ttlSeconds = Infinity) => {
    let h = live(key);
    if (!h) hashes.set(key, (h = { fields: new Map(), expiresAt: Infinity }));
    if (ttlSeconds !== Infinity) h.expiresAt = now() + ttlSeconds * 1000;
    return h;
  };
  let swept = now();
  const read = (key: string) => Object.fromEntries(live(key)?.fields ?? []);
  return {
    async set(key, field, value) {
      touch(key).fields.set(field, value);
    },
    async remove(key, fields) {
      for (const f of fields) live(key)?.fields.delete(f);
    },
    getAll: async (key) => read(key),
    getMany: async (keys) => keys.map(read),
    async increment(changes) {
      // Buckets nobody reads again expire here (at most once a minute), so memory stays bounded.
      if (now() - swept > 60_000) {
        swept = now();
        for (const key of [...hashes.keys()]) live(key);
      }
      for (const c of changes) {
        const h = touch(c.key, c.ttlSeconds);
        h.fields.set(c.field, String(Number(h.fields.get(c.field) ?? 0) + c.by));
      }
    },
  };
}
