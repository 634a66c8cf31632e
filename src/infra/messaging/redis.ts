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
  // A Redis that cannot be reached fails the start with the connection's own error (ECONNREFUSED host:port), once.
  let firstError: Error | undefined;
  const noteError = (err: Error) => (firstError ??= err);
  main.on('error', noteError);
  sub.on('error', noteError);
  try {
    await Promise.all([main.connect(), sub.connect()]);
  } catch (err) {
    main.disconnect();
    sub.disconnect();
    throw firstError ?? err;
  } finally {
    main.off('error', noteError);
    sub.off('error', noteError);
  }
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
