import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  const secret = 'p'.repeat(40);
  server = await startTestServer({
    env: { NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: secret, URL_SIGNING_SECRET: secret },
  });
});
afterAll(() => server.close());

describe('production mode', () => {
  it('gives no field suggestions, no introspection and no GraphiQL', async () => {
    const typo = await server.gql('{ mee { id } }');
    expect(typo.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(typo)).not.toMatch(/did you mean/i);
    const intro = await server.gql('{ __schema { queryType { name } } }');
    expect(intro.errors?.[0].message).toMatch(/introspection/i);
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
  });
});
