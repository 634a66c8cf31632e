import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server';
import { TransportProbeResolver } from '../support/probes';
import { createSignedInUser } from '../support/users';

let server: TestServer;
/** Multipart requests must be signed in (anonymous ones are refused unread: upload-auth.test.ts). */
let authorization: string;
beforeAll(async () => {
  server = await startTestServer({
    extraResolvers: [TransportProbeResolver],
    env: { UPLOAD_MAX_FILE_BYTES: '4096', MODEL_PACKAGE_MAX_BYTES: '4096', UPLOAD_MAX_FILES: '2' },
  });
  authorization = `Bearer ${(await createSignedInUser(server)).token}`;
});
afterAll(() => server.close());

/** A request built by hand per https://github.com/jaydenseric/graphql-multipart-request-spec. */
function multipart(files: Array<{ name: string; bytes: Buffer }>, query: string, vars: (i: number) => string) {
  const form = new FormData();
  const variables: Record<string, unknown> = {};
  const map: Record<string, string[]> = {};
  files.forEach((_, i) => {
    map[String(i)] = [vars(i)];
  });
  form.append('operations', JSON.stringify({ query, variables: files.length === 1 ? { file: null } : variables }));
  form.append('map', JSON.stringify(map));
  files.forEach((f, i) => form.append(String(i), new Blob([f.bytes], { type: 'application/octet-stream' }), f.name));
  return form;
}

const UPLOAD = 'mutation ($file: Upload!) { uploadProbe(file: $file) }';

describe('multipart uploads (GraphQL multipart request spec)', () => {
  it('streams a file to the resolver', async () => {
    const bytes = Buffer.from('a lesion image would be here'.repeat(10));
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization, 'apollo-require-preflight': 'true' },
      body: multipart([{ name: 'lesion.jpg', bytes }], UPLOAD, () => 'variables.file'),
    });
    const body: unknown = await res.json();
    expect(body).toEqual({
      data: { uploadProbe: `lesion.jpg:${bytes.length}:${createHash('sha256').update(bytes).digest('hex')}` },
    });
  });

  it('refuses a multipart request without the preflight header (CSRF prevention)', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization },
      body: multipart([{ name: 'x.jpg', bytes: Buffer.from('x') }], UPLOAD, () => 'variables.file'),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/preflight/i);
  });

  it('answers PAYLOAD_TOO_LARGE past the size limit', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization, 'apollo-require-preflight': 'true' },
      body: multipart([{ name: 'big.jpg', bytes: Buffer.alloc(10_000, 1) }], UPLOAD, () => 'variables.file'),
    });
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }>; data: unknown };
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(body.data).toBeNull();
  });

  it('answers PAYLOAD_TOO_LARGE past the file-count limit', async () => {
    const q =
      'mutation ($a: Upload!, $b: Upload!, $c: Upload!) { a: uploadProbe(file: $a) b: uploadProbe(file: $b) c: uploadProbe(file: $c) }';
    const files = ['a', 'b', 'c'].map((n) => ({ name: `${n}.jpg`, bytes: Buffer.from(n) }));
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: q, variables: { a: null, b: null, c: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.a'], 1: ['variables.b'], 2: ['variables.c'] }));
    files.forEach((f, i) => form.append(String(i), new Blob([f.bytes]), f.name));
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization, 'apollo-require-preflight': 'true' },
      body: form,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('answers a malformed multipart body with a GraphQL-shaped 400', async () => {
    const form = new FormData();
    form.append('operations', '{not json');
    form.append('map', '{}');
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization, 'apollo-require-preflight': 'true' },
      body: form,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe(
      'BAD_REQUEST',
    );
  });
});
