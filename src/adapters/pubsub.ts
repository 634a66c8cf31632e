import { createPubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { PubSub as TypeGraphQLPubSub } from 'type-graphql';
import type { RedisConnections } from './redis';

/**
 * The pub/sub behind GraphQL subscriptions and cross-process events. In memory for one
 * process; on Redis when configured, so an event published by any api or worker process
 * reaches subscribers on every api process. Topics carry the Redis prefix so deployments
 * (and test runs) sharing one Redis never hear each other.
 */
export interface PubSub extends TypeGraphQLPubSub {
  publish(topic: string, ...args: unknown[]): void;
  subscribe(topic: string, id?: unknown): AsyncIterable<unknown>;
}

export function createPubSubAdapter(redis: RedisConnections | null): PubSub {
  if (!redis) return createPubSub() as unknown as PubSub;
  const inner = createPubSub({
    eventTarget: createRedisEventTarget({ publishClient: redis.main, subscribeClient: redis.sub }),
  }) as unknown as PubSub;
  const key = (topic: string, id?: unknown) => `${redis.prefix}${topic}${id === undefined ? '' : `:${String(id)}`}`;
  return {
    publish(topic: string, ...args: unknown[]) {
      // With a dynamic id the yoga API is publish(topic, id, payload); fold it into one channel name.
      if (args.length === 2) inner.publish(key(topic, args[0]), args[1]);
      else inner.publish(key(topic), ...args);
    },
    subscribe(topic: string, id?: unknown) {
      return inner.subscribe(key(topic, id));
    },
  };
}
