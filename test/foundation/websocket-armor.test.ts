import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser } from '../support/users';

/**
 * Issue [7], "Authorisation that lags behind changes": production hardening was HTTP-only. Over
 * graphql-ws anonymous clients got full introspection, field suggestions and no token limit, and
 * nothing capped operations per socket or sockets per user / address. A production-mode server
 * with small caps; each client comes from its own address (X-Forwarded-For, trusted from loopback).
 */
let server: TestServer;
const MAX_TOKENS = 100;
beforeAll(async () => {
  const secret = 'w'.repeat(40);
  server = await startTestServer({
    env: {
      NODE_ENV: 'production',
      TOTP_ENCRYPTION_KEY: secret,
      URL_SIGNING_SECRET: secret,
      GRAPHQL_MAX_TOKENS: String(MAX_TOKENS),
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '2',
      WS_MAX_SOCKETS_PER_USER: '2',
      WS_MAX_SOCKETS_PER_IP: '3',
    },
  });
});
afterAll(() => server.close());

let lastIp = 0;
const nextIp = () => `203.0.113.${++lastIp}`;

interface Connected {
  client: Client;
  closed: Promise<{ code: number; reason: string }>;
}

/** A graphql-ws client from `ip`, connected eagerly; `closed` resolves with the close code. */
function connect(ip: string, token?: string): Connected {
  let onClosed!: (e: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: server.url.replace(/^http/, 'ws'),
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { 'x-forwarded-for': ip } });
      }
    },
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: {
      closed: (e) =>
        onClosed({ code: (e as { code: number }).code, reason: String((e as { reason: unknown }).reason) }),
    },
  });
  return { client, closed };
}

/** The first result of an operation over `client`: data, or the errors graphql-ws reported. */
async function first(
  client: Client,
  query: string,
): Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  try {
    const r = await client.iterate({ query }).next();
    return r.value as never;
  } catch (e) {
    return { errors: e as never };
  }
}

const longQuery = `{ me { ${Array.from({ length: MAX_TOKENS }, (_, i) => (i % 2 ? 'id' : 'email')).join(' ')} } }`;

describe('production hardening over graphql-ws, as over HTTP', () => {
  it('refuses introspection to an anonymous socket', async () => {
    const c = connect(nextIp());
    try {
      const r = await first(c.client, '{ __schema { queryType { name } types { name } } }');
      expect(r.data).toBeUndefined();
      expect(r.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/introspection/i),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
      // __typename is not introspection of the schema.
      expect(await first(c.client, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await c.client.dispose();
    }
  });

  it('gives no field suggestions', async () => {
    const c = connect(nextIp());
    try {
      const r = await first(c.client, '{ mee { id } }');
      expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.errors?.[0].message).toMatch(/mee/);
      expect(JSON.stringify(r)).not.toMatch(/did you mean/i);
      // HTTP answers the same way.
      expect(JSON.stringify(await server.gql('{ mee { id } }'))).not.toMatch(/did you mean/i);
    } finally {
      await c.client.dispose();
    }
  });

  it('refuses an operation over the token limit while parsing, and keeps the socket', async () => {
    const c = connect(nextIp());
    try {
      const r = await first(c.client, longQuery);
      expect(r.data).toBeUndefined();
      expect(r.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/tokens/i),
        extensions: { code: 'QUERY_TOO_COMPLEX', reason: 'TOKENS', max: MAX_TOKENS },
      });
      expect((await server.gql(longQuery)).errors?.[0].message).toMatch(/token/i);
      // A syntax error is an answer, not a dropped connection.
      expect((await first(c.client, '{ me { ')).errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(await first(c.client, '{ me { id } }')).toEqual({ data: { me: null } });
    } finally {
      await c.client.dispose();
    }
  });

  it('formats resolver errors as HTTP does (stable code, no internals)', async () => {
    const user = await createSignedInUser(server);
    const c = connect(nextIp(), user.token);
    try {
      const r = await first(c.client, '{ users { edges { node { id } } } }');
      expect(r.errors?.[0].extensions).toEqual({ code: 'FORBIDDEN' });
    } finally {
      await c.client.dispose();
    }
  });
});

describe('WebSocket caps', () => {
  it('refuses an operation past WS_MAX_SUBSCRIPTIONS_PER_SOCKET with RATE_LIMITED; a freed slot can be used again', async () => {
    const c = connect(nextIp());
    try {
      const a = c.client.iterate({ query: 'subscription { serverTime }' });
      const b = c.client.iterate({ query: 'subscription { serverTime }' });
      await a.next();
      await b.next();
      const third = await first(c.client, 'subscription { serverTime }');
      expect(third.errors?.[0].extensions).toMatchObject({
        code: 'RATE_LIMITED',
        reason: 'TOO_MANY_SUBSCRIPTIONS',
        max: 2,
      });
      await a.return?.();
      const again = c.client.iterate({ query: 'subscription { serverTime }' });
      expect((await again.next()).value).toMatchObject({ data: { serverTime: expect.any(String) } });
      await again.return?.();
      await b.return?.();
    } finally {
      await c.client.dispose();
    }
  });

  it('closes a socket past WS_MAX_SOCKETS_PER_USER with 1013, whatever the address', async () => {
    const user = await createSignedInUser(server);
    const open = [connect(nextIp(), user.token), connect(nextIp(), user.token)];
    try {
      for (const c of open) expect(await first(c.client, '{ me { id } }')).toEqual({ data: { me: { id: user.id } } });
      const extra = connect(nextIp(), user.token);
      expect(await extra.closed).toMatchObject({ code: 1013, reason: expect.stringMatching(/user/) });
      await extra.client.dispose();
      // Another user is not affected.
      const other = await createSignedInUser(server);
      const theirs = connect(nextIp(), other.token);
      expect(await first(theirs.client, '{ me { id } }')).toEqual({ data: { me: { id: other.id } } });
      await theirs.client.dispose();
    } finally {
      await Promise.all(open.map((c) => c.client.dispose()));
    }
  });

  it('closes a socket past WS_MAX_SOCKETS_PER_IP with 1013; a closed socket frees its place', async () => {
    const ip = nextIp();
    const open = [connect(ip), connect(ip), connect(ip)];
    try {
      for (const c of open) expect(await first(c.client, '{ me { id } }')).toEqual({ data: { me: null } });
      const extra = connect(ip);
      expect(await extra.closed).toMatchObject({ code: 1013, reason: expect.stringMatching(/address/) });
      await extra.client.dispose();
      const elsewhere = connect(nextIp());
      expect(await first(elsewhere.client, '{ me { id } }')).toEqual({ data: { me: null } });
      await elsewhere.client.dispose();
      // Once the server has seen a close, the address may connect again (polled: the close travels asynchronously).
      await open.pop()!.client.dispose();
      for (let attempt = 0; ; attempt++) {
        const again = connect(ip);
        const r = await first(again.client, '{ me { id } }');
        if (r.data) {
          expect(r).toEqual({ data: { me: null } });
          open.push(again);
          break;
        }
        await again.client.dispose();
        if (attempt === 50) throw new Error('the freed place was never given back');
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      await Promise.all(open.map((c) => c.client.dispose()));
    }
  });
});
