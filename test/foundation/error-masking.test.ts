import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Role } from '../../src/entities';
import { signature } from '../../src/infra/storage/signed-urls';
import { startTestServer, type TestServer } from '../support/server';
import { TransportProbeResolver } from '../support/probes';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { connectWs } from '../support/ws';

/**
 * Issue [7], "Safe defaults for npm start": no response carries SQL, stack traces or paths, in any
 * mode. `npm start` runs in development mode, where internals used to be shown, and NUL-byte input
 * reached PostgreSQL and came back as SQL text (with user ids) to anonymous callers. This server runs
 * in development mode on purpose.
 */
let server: TestServer;
let alice: SignedInUser;
const logLines: string[] = [];
const LEAK =
  /select |insert |update |relation |stack|\/srv\/|\/tmp\/|\/work\/|\.ts:|\.js:|node_modules|ENOENT|password_hash|\\u0000|invalid byte/i;

beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  server = await startTestServer({
    env: { NODE_ENV: 'development' },
    extraResolvers: [TransportProbeResolver],
    logger: pino({ level: 'info' }, sink),
  });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
});
afterAll(() => server?.close());

const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
  const res = await server.gql(query, variables, token);
  expect(JSON.stringify(res)).not.toMatch(LEAK);
  return res;
};

describe('NUL bytes in string arguments are BAD_USER_INPUT naming the field, before any resolver runs', () => {
  it('in login(email) as a variable, anonymously', async () => {
    const res = await gql('mutation($e: String!) { login(email: $e, password: "whatever 123") { accessToken } }', {
      e: 'a\u0000b@example.org',
    });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('in a literal inside an input object (createPatient), and nothing is written', async () => {
    const res = await gql(
      'mutation { createPatient(input: { externalId: "NUL-1", displayName: "Jane\\u0000Doe" }) { id } }',
      {},
      alice.token,
    );
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.displayName' });
    const list = await gql('{ patients(first: 5) { edges { node { externalId } } } }', {}, alice.token);
    expect(list.data).toEqual({ patients: { edges: [] } });
  });

  it('in a variable holding an input object, and in a list', async () => {
    const res = await gql(
      'mutation($i: PatientInput!) { createPatient(input: $i) { id } }',
      { i: { externalId: 'NUL-2', displayName: 'ok', notes: 'x\u0000' } },
      alice.token,
    );
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.notes' });
    const list = await gql(
      'mutation($ids: [ID!]!) { classifyImages(imageIds: $ids) { id } }',
      { ids: [randomUUID(), `${randomUUID()}\u0000`] },
      alice.token,
    );
    expect(list.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageIds[1]' });
  });

  it('over graphql-ws too', async () => {
    const client = await connectWs(server.url, alice.token);
    try {
      const result = await new Promise<any>((resolve, reject) => {
        client.subscribe(
          {
            query: 'mutation($i: PatientInput!) { createPatient(input: $i) { id } }',
            variables: { i: { externalId: 'NUL-3\u0000', displayName: 'ws' } },
          },
          { next: resolve, error: reject, complete: () => undefined },
        );
      });
      expect(JSON.stringify(result)).not.toMatch(LEAK);
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.externalId' });
    } finally {
      await client.dispose();
    }
  });
});

describe('unexpected errors answer INTERNAL_SERVER_ERROR with the request id only, in development mode too', () => {
  it('over HTTP: no message, SQL, stack or path; the id leads to the log line with the details', async () => {
    const res = await gql('{ probeInternalFailure }');
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].message).toBe('Internal server error');
    expect(res.errors![0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) });
    const line = logLines.find(
      (l) => l.includes(String(res.errors![0].extensions!.requestId)) && l.includes('unexpected error'),
    );
    expect(line).toMatch(/relation \\"users\\" does not exist/);
  });

  it('over graphql-ws', async () => {
    const client = await connectWs(server.url, alice.token);
    try {
      const result = await new Promise<any>((resolve, reject) => {
        client.subscribe(
          { query: '{ probeInternalFailure }' },
          { next: resolve, error: reject, complete: () => undefined },
        );
      });
      expect(JSON.stringify(result)).not.toMatch(LEAK);
      expect(result.errors[0]).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
      });
    } finally {
      await client.dispose();
    }
  });

  it('from the signed-file routes: a file that is not there answers 500 JSON with the request id, without its path', async () => {
    // A correctly signed Grad-CAM URL whose stored map does not exist: reading it fails with ENOENT and its path.
    const sha = 'f'.repeat(64);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const origin = new URL(server.url).origin;
    const gradcam = `${origin}/files/gradcams/${sha}.${sha}/heatmap?exp=${exp}&sig=${signature(server.config.URL_SIGNING_SECRET, { kind: 'gradcam', id: `${sha}.${sha}`, variant: 'heatmap' }, exp)}`;
    const res = await fetch(gradcam);
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(text).not.toMatch(LEAK);
    expect(JSON.parse(text)).toEqual({
      errors: [
        {
          message: 'Internal server error',
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: res.headers.get('x-request-id') },
        },
      ],
    });
  });

  it('unknown routes answer a JSON 404', async () => {
    const res = await fetch(`${new URL(server.url).origin}/no/such/route`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
  });
});
