import { startTestServer, type TestServer } from '../support/server';
import { TransportProbeResolver } from '../support/probes';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ extraResolvers: [TransportProbeResolver], env: { GRAPHQL_MAX_DEPTH: '3' } });
});
afterAll(() => server.close());

const origin = () => server.url.replace(/\/graphql$/, '');

describe('HTTP server', () => {
  it('answers /healthz and /readyz with the database and Redis up', async () => {
    expect((await fetch(`${origin()}/healthz`)).status).toBe(200);
    const ready = await fetch(`${origin()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: expect.objectContaining({ database: 'UP', redis: 'UP', models: 'UP' }),
    });
  });

  it('answers `me` as null without a token and refuses systemStatus with UNAUTHENTICATED', async () => {
    expect((await server.gql('{ me { id } }')).data).toEqual({ me: null });
    const res = await server.gql('{ systemStatus { version } }');
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('hides internals of unexpected errors: no stack, SQL or paths', async () => {
    const res = await server.gql('{ probeInternalFailure }');
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) }); // the id names the log line
    expect(res.errors![0].message).toBe('Internal server error');
    expect(JSON.stringify(res)).not.toMatch(/select|\/srv|password|stacktrace/i);
  });

  it('rejects queries past the depth, alias and token limits', async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(' ');
    const res = await server.gql(`{ ${aliases} }`);
    expect(res.errors?.[0].message).toMatch(/alias/i);
    expect(res.errors?.[0].extensions?.code).toBeDefined();
    // This server allows depth 3; systemStatus.database.kind is 3 deep, one more level is refused before auth runs.
    const deepRes = await server.gql('{ a: me { id } b: me { id } }');
    expect(deepRes.errors).toBeUndefined();
    const tooDeep = await server.gql(
      'fragment F on Query { me { id } } { ...F systemStatus { database { kind } redis { state { x } } } }',
    );
    expect(tooDeep.errors?.some((e) => /depth/i.test(e.message))).toBe(true);
    const tokens = await server.gql(`{ ${Array.from({ length: 2500 }, () => '__typename').join(' ')} }`);
    expect(tokens.errors?.[0].message).toMatch(/token/i);
  });

  it('keeps CSRF prevention on: a simple GET query without a preflight header is refused', async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(400);
    const ok = await fetch(`${server.url}?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(ok.status).toBe(200);
  });

  it('answers CORS preflight for allowed origins only', async () => {
    const allowed = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const denied = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('echoes a request id and counts operations in /metrics', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'test-req-123' },
      body: JSON.stringify({ query: 'query WhoAmI { me { id } }', operationName: 'WhoAmI' }),
    });
    expect(res.headers.get('x-request-id')).toBe('test-req-123');
    const metrics = await (await fetch(`${origin()}/metrics`)).text();
    expect(metrics).toMatch(/dermagraph_graphql_requests_total\{operation="WhoAmI",type="query",outcome="ok"\} 1/);
    expect(metrics).toMatch(/dermagraph_process_cpu_seconds_total/);
  });
});
