import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/server';
import { startSmtpCapture } from './smtp-capture';
import { createVerifiedUser, gql, M } from './helpers';

/** Subscriptions authenticate from connectionParams and end with their session. */
describe('accounts over WebSocket', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  const password = 'dermatofibroma 55';

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    server = await startTestServer({ env: { SMTP_URL: smtp.url } });
    await createVerifiedUser(server, smtp, 'ws@example.org', password);
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  function connect(authorization?: string, target: TestServer = server) {
    let onClosed!: (e: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
    const client = createClient({
      url: target.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      connectionParams: authorization ? { authorization } : {},
      on: { closed: (e) => onClosed({ code: (e as { code: number }).code, reason: String((e as { reason: unknown }).reason) }) },
    });
    return { client, closed };
  }

  it('a signed-in socket sees its user; logout closes it', async () => {
    const session = (await gql(server, M.login, { email: 'ws@example.org', password }, { ip: '192.0.2.50' })).data!.login;
    const c = connect(`Bearer ${session.accessToken}`);
    try {
      const me = await c.client.iterate<{ me: { email: string } }>({ query: '{ me { email } }' }).next();
      expect(me.value).toEqual({ data: { me: { email: 'ws@example.org' } } });
      const ticks = c.client.iterate({ query: 'subscription { serverTime }' });
      await ticks.next();
      await gql(server, M.logout, { refreshToken: session.refreshToken });
      const closed = await c.closed;
      expect(closed.code).toBe(4403);
      expect(closed.reason).toMatch(/revoked/i);
    } finally {
      await c.client.dispose();
    }
  });

  it('a bad token is refused at connection time (4403)', async () => {
    const c = connect('Bearer not.a.token');
    const result = c.client.iterate({ query: '{ me { email } }' }).next().catch((e) => e);
    expect((await c.closed).code).toBe(4403);
    await result;
    await c.client.dispose();
  });

  it('scaled out: a logout on one api process closes the socket held by another (Redis pub/sub)', async () => {
    // A second process on the same database, Redis prefix and keys.
    const other = await startTestServer({
      env: { SMTP_URL: smtp.url, DATABASE_URL: server.config.DATABASE_URL, REDIS_PREFIX: server.config.REDIS_PREFIX, DATA_DIR: server.dataDir },
    });
    try {
      const session = (await gql(server, M.login, { email: 'ws@example.org', password }, { ip: '192.0.2.51' })).data!.login;
      const onOther = connect(`Bearer ${session.accessToken}`, other);
      try {
        const ticks = onOther.client.iterate({ query: 'subscription { serverTime }' });
        await ticks.next();
        await gql(server, M.logout, { refreshToken: session.refreshToken });
        expect((await onOther.closed).code).toBe(4403);
      } finally {
        await onOther.client.dispose();
      }
    } finally {
      await other.close();
    }
  });
});
