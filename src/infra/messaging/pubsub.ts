import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { PubSub as TypeGraphQLPubSub } from 'type-graphql';
import type { RedisConnections } from './redis';

/**
 * The pub/sub behind GraphQL subscriptions and cross-process events. In memory for one
 * process; on Redis when configured, so an event published by any api or worker process
 * reaches subscribers on every api process. Topics carry the Redis prefix so deployments
 * (and test runs) sharing one Redis never hear each other.
 *
 * publish(topic, payload) or publish(topic, id, payload); subscribe(topic) or subscribe(topic, id).
 */
export interface PubSub extends TypeGraphQLPubSub {
  publish(topic: string, ...args: unknown[]): void;
  subscribe(topic: string, id?: unknown): AsyncIterable<unknown>;
}

/** Thrown to a subscriber that fell more than its queue's limit behind (it is ended, nothing else is). */
export class SubscriberOverflowError extends Error {
  constructor(topic: string, limit: number) {
    super(`subscriber of ${topic} fell more than ${limit} events behind and was ended`);
  }
}

/** How events travel between publishers and subscribers of a channel. */
interface Transport {
  on(channel: string, listener: (payload: unknown) => void): void;
  off(channel: string, listener: (payload: unknown) => void): void;
  emit(channel: string, payload: unknown): void;
}

/** In one process: listeners per channel, called synchronously. */
function memoryTransport(): Transport {
  const channels = new Map<string, Set<(payload: unknown) => void>>();
  return {
    on(channel, listener) {
      let set = channels.get(channel);
      if (!set) channels.set(channel, (set = new Set()));
      set.add(listener);
    },
    off(channel, listener) {
      const set = channels.get(channel);
      set?.delete(listener);
      if (set?.size === 0) channels.delete(channel);
    },
    emit(channel, payload) {
      for (const listener of channels.get(channel) ?? []) listener(payload);
    },
  };
}

/** Across processes: a Redis channel per topic (graphql-yoga's Redis event target). */
function eventTargetTransport(target: EventTarget): Transport {
  const wrapped = new Map<(payload: unknown) => void, (e: Event) => void>();
  return {
    on(channel, listener) {
      const l = (e: Event) => listener((e as CustomEvent).detail);
      wrapped.set(listener, l);
      target.addEventListener(channel, l);
    },
    off(channel, listener) {
      const l = wrapped.get(listener);
      if (l) target.removeEventListener(channel, l);
      wrapped.delete(listener);
    },
    emit(channel, payload) {
      target.dispatchEvent(new CustomEvent(channel, { detail: payload }));
    },
  };
}

/**
 * One subscriber: events queue up until it asks for them. A subscriber that falls `limit` events
 * behind is ended with SubscriberOverflowError (its memory is bounded and no one else is affected).
 */
class Subscription implements AsyncIterableIterator<unknown> {
  private readonly queue: unknown[] = [];
  private waiting: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | null = null;
  private failure: Error | null = null;
  private done = false;

  constructor(
    private readonly channel: string,
    private readonly transport: Transport,
    private readonly limit: number,
  ) {
    transport.on(channel, this.push);
  }

  private readonly push = (payload: unknown): void => {
    if (this.done) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve({ value: payload, done: false });
    } else if (this.queue.length >= this.limit) {
      this.failure = new SubscriberOverflowError(this.channel, this.limit);
      this.queue.length = 0;
      this.finish();
    } else this.queue.push(payload);
  };

  next(): Promise<IteratorResult<unknown>> {
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift(), done: false });
    if (this.failure) {
      const f = this.failure;
      this.failure = null;
      return Promise.reject(f);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<unknown>> {
    this.queue.length = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(e: unknown): Promise<IteratorResult<unknown>> {
    this.queue.length = 0;
    this.finish();
    return Promise.reject(e);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.transport.off(this.channel, this.push);
    this.waiting?.resolve({ value: undefined, done: true });
    this.waiting = null;
  }
}

/** A PubSub over `transport`; `prefix` goes in front of every channel name. */
export function createPubSub(options: { transport?: Transport; prefix?: string; maxQueued?: number } = {}): PubSub {
  const transport = options.transport ?? memoryTransport();
  const prefix = options.prefix ?? '';
  const limit = options.maxQueued ?? 10_000;
  const channel = (topic: string, id?: unknown) => `${prefix}${topic}${id === undefined ? '' : `:${String(id)}`}`;
  return {
    publish(topic: string, ...args: unknown[]) {
      if (args.length >= 2) transport.emit(channel(topic, args[0]), args[1]);
      else transport.emit(channel(topic), args[0] ?? null);
    },
    subscribe(topic: string, id?: unknown) {
      return { [Symbol.asyncIterator]: () => new Subscription(channel(topic, id), transport, limit) };
    },
  };
}

/**
 * The two clients graphql-yoga's Redis event target is given. It sends PUBLISH, SUBSCRIBE and
 * UNSUBSCRIBE without handling their promises; while Redis is down ioredis rejects them once its
 * retries run out, and that unhandled rejection ended the process (a Redis restart took the api
 * down). Here they are caught: a lost PUBLISH is a lost live event (the job's progress log in Redis
 * has it, or its writer failed too), and the channels wanted are subscribed again whenever the
 * subscriber connection is ready, so a subscription made during the outage hears events after it.
 */
function outageTolerantClients(redis: RedisConnections) {
  const wanted = new Set<string>();
  const ignore = () => undefined;
  const subscribe = (channel: string) => redis.sub.subscribe(channel).catch(ignore);
  redis.sub.on('ready', () => {
    for (const channel of wanted) void subscribe(channel);
  });
  const subscribeClient = {
    on: (event: string, listener: (...args: any[]) => void) => (redis.sub.on(event, listener), subscribeClient), // eslint-disable-line @typescript-eslint/no-explicit-any
    subscribe: (channel: string) => (wanted.add(channel), subscribe(channel)),
    unsubscribe: (channel: string) => (wanted.delete(channel), redis.sub.unsubscribe(channel).catch(ignore)),
  };
  const publishClient = {
    publish: (channel: string, message: string) => redis.main.publish(channel, message).catch(ignore),
  };
  return { publishClient, subscribeClient } as unknown as Parameters<typeof createRedisEventTarget>[0];
}

export function createPubSubAdapter(redis: RedisConnections | null): PubSub {
  if (!redis) return createPubSub();
  const target = createRedisEventTarget(outageTolerantClients(redis)) as unknown as EventTarget;
  return createPubSub({ transport: eventTargetTransport(target), prefix: redis.prefix });
}
