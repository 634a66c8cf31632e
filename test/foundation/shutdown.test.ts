import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startTestServer } from '../support/server';
import { TransportProbeResolver } from '../support/probes';

describe('graceful shutdown', () => {
  it('lets in-flight HTTP requests finish, closes WebSockets with 1001, then refuses connections', async () => {
    const server = await startTestServer({ extraResolvers: [TransportProbeResolver] });
    const closed: number[] = [];
    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { closed: (e) => closed.push((e as { code: number }).code) },
    });
    const ticks = client.iterate({ query: 'subscription { serverTime }' });
    await ticks.next(); // the socket is open and subscribed

    const inFlight = server.gql<{ probeSlow: string }>('{ probeSlow(ms: 700) }');
    await new Promise((r) => setTimeout(r, 100)); // the request has reached the resolver
    const stopping = server.close();
    const answer = await inFlight;
    expect(answer.data).toEqual({ probeSlow: 'slept 700' });
    await stopping;
    expect(closed).toContain(1001);
    await expect(fetch(server.url, { method: 'POST' })).rejects.toThrow();
    await client.dispose();
  });
});
