import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { decodeJwt } from 'jose';
import { JwtService, loadKeyRing } from '../../src/modules/accounts/tokens/jwt';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('WebSocket authentication lifetime', () => {
  it('closes a socket with 4401 when its access token expires', async () => {
    const user = await createSignedInUser(server);
    // A real token of the same session, signed with the server's own key, that lives 2 seconds.
    const sid = String(decodeJwt(user.token).sid);
    const ring = await loadKeyRing({ keyDir: `${server.dataDir}/keys` });
    const shortLived = new JwtService(ring, {
      issuer: server.config.JWT_ISSUER,
      audience: server.config.JWT_AUDIENCE,
      accessTtlSeconds: 2,
    });
    const token = await shortLived.signAccessToken({ sub: user.id, role: user.role, sid });

    const closes: number[] = [];
    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { closed: (e) => closes.push((e as { code: number }).code) },
    });
    const ticks = client.iterate<{ serverTime: string }>({ query: 'subscription { serverTime }' });
    const me = await client.iterate<{ me: { id: string } }>({ query: '{ me { id } }' }).next();
    expect(me.value?.data?.me.id).toBe(user.id); // authenticated from connectionParams
    await expect(
      (async () => {
        for await (const _ of ticks) {
          // ticks arrive until the server closes the socket
        }
      })(),
    ).rejects.toBeDefined();
    expect(closes).toContain(4401);
    await client.dispose();
  });

  it('refuses the connection with a bad token', async () => {
    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: 'Bearer not-a-token' },
    });
    await expect(client.iterate({ query: '{ me { id } }' }).next()).rejects.toMatchObject({ code: 4403 });
    await client.dispose();
  });
});
