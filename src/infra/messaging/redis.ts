import Redis, { type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';
import { logConnection, type Emitter } from './connection-log';

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
  /**
   * Logs a further connection's failures and recoveries in the process's log, as `main`'s and `sub`'s are
   * (`logConnection`; nothing without a logger). `errorsFrom`: where its errors are emitted, if not on it.
   */
  watch(name: string, client: Emitter, errorsFrom?: Emitter): void;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** `log`: where the connections' failures and recoveries go (without it, ioredis prints errors to stderr). */
export async function connectRedis(url: string, prefix: string, log?: Logger): Promise<RedisConnections> {
  const base: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    enableReadyCheck: true,
    connectionName: 'dermagraph',
  };
  const main = handleReconnectRejections(new Redis(url, base));
  const sub = handleReconnectRejections(new Redis(url, base));
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
  const watch = (name: string, client: Emitter, errorsFrom?: Emitter) => {
    if (log) logConnection(log, name, client, errorsFrom);
  };
  watch('commands', main);
  watch('subscriber', sub);
  return {
    url,
    prefix,
    main,
    sub,
    options: () => ({ ...base, lazyConnect: false, maxRetriesPerRequest: null }),
    watch,
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

/** The commands ioredis 5 sends by itself after a reconnect, to restore a connection's database and subscriptions. */
const RESTORING_COMMANDS = ['select', 'subscribe', 'psubscribe', 'ssubscribe'] as const;

/**
 * ioredis 5 restores a connection's SELECT and subscriptions after a reconnect without handling the commands'
 * promises. Refused (an ACL change took the channels away) or cut off (the connection closed again before Redis
 * answered), the rejection is unhandled, and Node ends the process for it (redis/ioredis#2187, fixed upstream
 * after the last release). Each such promise is handled here as that fix does: the error goes to the connection's
 * 'error' listeners (or is printed, as ioredis prints an error nobody listens to; a closed connection's is
 * dropped). A caller awaiting one of these commands still gets its rejection.
 */
export function handleReconnectRejections(client: Redis): Redis {
  for (const name of RESTORING_COMMANDS) {
    const send = client[name] as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(client, name, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => {
        const sent = send.apply(client, args);
        sent.catch((err: unknown) => client.silentEmit('error', err));
        return sent;
      },
    });
  }
  return client;
}
