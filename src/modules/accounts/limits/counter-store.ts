import type Redis from 'ioredis';

export interface CounterState {
  count: number;
  /** Milliseconds until the counter resets. */
  ttlMs: number;
}

/**
 * Counters with expiry, the one primitive rate limits and sign-in slowdown need. `increment` is
 * atomic (read and write in one step), so concurrent requests each see a distinct count.
 * - fixed: the window starts at the first hit and is not extended by later ones;
 * - sliding: every hit restarts the expiry (the counter decays only after a quiet period).
 */
export interface CounterStore {
  increment(key: string, windowMs: number, mode?: 'fixed' | 'sliding'): Promise<CounterState>;
  peek(key: string): Promise<CounterState | null>;
  reset(key: string): Promise<void>;
}

/** Embedded mode: one process, so a Map is atomic as long as no await splits read and write. */
export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { count: number; expiresAt: number }>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string): { count: number; expiresAt: number } | undefined {
    const c = this.counters.get(key);
    if (c && c.expiresAt <= this.now()) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  /** Drops expired counters now and then so memory stays bounded by the live ones. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [k, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(k);
  }

  async increment(key: string, windowMs: number, mode: 'fixed' | 'sliding' = 'fixed'): Promise<CounterState> {
    this.sweep();
    const now = this.now();
    let c = this.live(key);
    if (!c) {
      c = { count: 0, expiresAt: now + windowMs };
      this.counters.set(key, c);
    }
    c.count += 1;
    if (mode === 'sliding') c.expiresAt = now + windowMs;
    return { count: c.count, ttlMs: c.expiresAt - now };
  }

  async peek(key: string): Promise<CounterState | null> {
    const c = this.live(key);
    return c ? { count: c.count, ttlMs: c.expiresAt - this.now() } : null;
  }

  async reset(key: string): Promise<void> {
    this.counters.delete(key);
  }
}

/**
 * INCR and PEXPIRE in one Lua script: Redis runs it atomically, so N processes hitting the same key
 * at once get counts 1..N (graphql-rate-limit's own RedisStore reads, then writes, and lets
 * concurrent requests through). A key somehow left without a TTL gets one, so nothing is permanent.
 */
const INCREMENT_LUA = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ARGV[2] == 'sliding' or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

const PEEK_LUA = `
local n = redis.call('GET', KEYS[1])
if not n then return nil end
return {tonumber(n), redis.call('PTTL', KEYS[1])}
`;

type ScriptRunner = (key: string, ...args: string[]) => Promise<[number, number] | null>;

export class RedisCounterStore implements CounterStore {
  private readonly incrementScript: ScriptRunner;
  private readonly peekScript: ScriptRunner;

  /** `prefix` namespaces every key (config REDIS_PREFIX plus a purpose, e.g. "dg:rl:"). */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    // defineCommand sends the script once and then calls it by SHA (EVALSHA).
    redis.defineCommand('dgCounterIncrement', { numberOfKeys: 1, lua: INCREMENT_LUA });
    redis.defineCommand('dgCounterPeek', { numberOfKeys: 1, lua: PEEK_LUA });
    const r = redis as unknown as Record<string, ScriptRunner>;
    this.incrementScript = r.dgCounterIncrement.bind(redis);
    this.peekScript = r.dgCounterPeek.bind(redis);
  }

  async increment(key: string, windowMs: number, mode: 'fixed' | 'sliding' = 'fixed'): Promise<CounterState> {
    const [count, ttlMs] = (await this.incrementScript(this.prefix + key, String(Math.ceil(windowMs)), mode))!;
    return { count, ttlMs };
  }

  async peek(key: string): Promise<CounterState | null> {
    const r = await this.peekScript(this.prefix + key);
    return r ? { count: r[0], ttlMs: Math.max(0, r[1]) } : null;
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
