import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { connectRedis, type RedisConnections } from '../../src/infra/messaging/redis';
import { createPubSubAdapter } from '../../src/infra/messaging/pubsub';
import { startTestServer, type TestServer } from '../support/server';
import { testRedisPrefix } from '../support/database';
import { TEST_REDIS_URL } from '../support/env';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

function wsClient(): Client {
  return createClient({
    url: server.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
  });
}

describe('GraphQL over WebSocket (graphql-ws)', () => {
  it('streams serverTime ticks to a subscriber', async () => {
    const client = wsClient();
    const ticks: string[] = [];
    try {
      const it = client.iterate<{ serverTime: string }>({ query: 'subscription { serverTime }' });
      for await (const result of it) {
        expect(result.errors).toBeUndefined();
        ticks.push(result.data!.serverTime);
        if (ticks.length === 2) break;
      }
    } finally {
      await client.dispose();
    }
    expect(ticks).toHaveLength(2);
    expect(Date.parse(ticks[1])).toBeGreaterThan(Date.parse(ticks[0]));
  });

  it('runs queries over the socket and reports validation errors with a code', async () => {
    const client = wsClient();
    try {
      const ok = await client.iterate({ query: '{ me { id } }' }).next();
      expect(ok.value).toEqual({ data: { me: null } });
      const bad = client.iterate({ query: '{ nope }' });
      await expect(bad.next()).rejects.toEqual([expect.objectContaining({ message: expect.stringMatching(/nope/) })]);
    } finally {
      await client.dispose();
    }
  });
});

describe('pub/sub on Redis', () => {
  let a: RedisConnections;
  let b: RedisConnections;
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('delivers an event published by one process to a subscriber in another', async () => {
    const prefix = testRedisPrefix();
    a = await connectRedis(TEST_REDIS_URL, prefix);
    b = await connectRedis(TEST_REDIS_URL, prefix);
    const publisher = createPubSubAdapter(a);
    const subscriber = createPubSubAdapter(b);
    const iterator = subscriber.subscribe('JOB_PROGRESS', 'job-1')[Symbol.asyncIterator]();
    const next = iterator.next();
    await new Promise((r) => setTimeout(r, 150)); // SUBSCRIBE reaches Redis asynchronously
    publisher.publish('JOB_PROGRESS', 'job-2', { progress: 0.1 }); // another job: must not arrive
    publisher.publish('JOB_PROGRESS', 'job-1', { progress: 0.5 });
    expect((await next).value).toEqual({ progress: 0.5 });
    await iterator.return?.();
  });
});
