import Redis, { type RedisOptions } from 'ioredis';

/**
 * Redis connections for one process. Pub/sub needs a connection of its own (a subscribed
 * connection can run nothing else), and BullMQ wants `maxRetriesPerRequest: null`.
 */
export interface RedisConnections {
  url: string;
  prefix: string;
  /** Commands: rate limits, caches, publishing. */
  main: Redis;
  /** Subscriber connection for pub/sub. */
  sub: Redis;
  /** Options to open further connections (BullMQ opens its own). */
  options(): RedisOptions;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function connectRedis(url: string, prefix: string): Promise<RedisConnections> {
  const base: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    enableReadyCheck: true,
    connectionName: 'dermagraph',
  };
  const main = new Redis(url, base);
  const sub = new Redis(url, base);
  await Promise.all([main.connect(), sub.connect()]);
  return {
    url,
    prefix,
    main,
    sub,
    options: () => ({ ...base, lazyConnect: false, maxRetriesPerRequest: null }),
    async ping() {
      try {
        return (await main.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.allSettled([main.quit(), sub.quit()]);
    },
  };
}
