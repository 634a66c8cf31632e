import http from 'node:http';
import { createHash } from 'node:crypto';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { TransportProbeResolver } from '../support/probes';
import { createSignedInUser, type SignedInUser } from '../support/users';

/**
 * Issue [7], "Resource limits": anonymous multipart bodies up to 200 MB x 20 files were spooled to
 * disk before authentication, and every caller got the model-package size limit. Multipart
 * requests are now authenticated from their headers first (anonymous: 401 before the body is
 * read), and only admins get MODEL_PACKAGE_MAX_BYTES; everyone else gets UPLOAD_MAX_FILE_BYTES.
 */
let server: TestServer;
let clinician: SignedInUser;
let admin: SignedInUser;
const IMAGE_LIMIT = 16 * 1024;
const PACKAGE_LIMIT = 1024 * 1024;

beforeAll(async () => {
  server = await startTestServer({
    extraResolvers: [TransportProbeResolver],
    env: { UPLOAD_MAX_FILE_BYTES: String(IMAGE_LIMIT), MODEL_PACKAGE_MAX_BYTES: String(PACKAGE_LIMIT) },
  });
  clinician = await createSignedInUser(server);
  admin = await createSignedInUser(server, { role: Role.ADMIN });
});
afterAll(() => server.close());

const UPLOAD = 'mutation ($file: Upload!) { uploadProbe(file: $file) }';

function probeForm(bytes: Buffer): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([bytes], { type: 'application/octet-stream' }), 'probe.bin');
  return form;
}

async function postProbe(bytes: Buffer, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'apollo-require-preflight': 'true', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: probeForm(bytes),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Starts a multipart POST that declares `declared` bytes, sends only its first part and holds the
 * rest back; resolves with the answer, which can only come from a server that did not wait for the body.
 */
function answerWhileBodyHeldBack(
  headers: Record<string, string>,
  declared: number,
): Promise<{ status: number; body: any; sent: number }> {
  const boundary = '----dg-upload-auth';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: UPLOAD, variables: { file: null } })}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const firstChunk = Buffer.concat([head, Buffer.alloc(64 * 1024, 7)]);
  return new Promise((resolve, reject) => {
    const url = new URL(server.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: {
        ...headers,
        'apollo-require-preflight': 'true',
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(declared),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          sent: firstChunk.length,
        });
        req.destroy();
      });
    });
    req.on('error', (e) => reject(e));
    req.write(firstChunk); // and nothing more: the remaining body is never sent
  });
}

describe('multipart uploads are authenticated before their body is read', () => {
  it('answers an anonymous multipart POST with 401 UNAUTHENTICATED while most of its body is still unsent', async () => {
    const declared = 200 * 1024 * 1024;
    const r = await answerWhileBodyHeldBack({}, declared);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(r.sent).toBeLessThan(declared / 1000);
  });

  it('answers a multipart POST with a bad token the same way, with the reason', async () => {
    const r = await answerWhileBodyHeldBack({ authorization: 'Bearer not.a.token' }, 50 * 1024 * 1024);
    expect(r.status).toBe(401);
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
  });

  it('keeps the answer in the GraphQL response shape for a small anonymous upload sent whole', async () => {
    const r = await postProbe(Buffer.from('tiny'));
    expect(r).toMatchObject({ status: 401, body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
  });
});

describe('file size by role', () => {
  const overImageLimit = Buffer.alloc(IMAGE_LIMIT * 3, 5);

  it("stops a non-admin's file at UPLOAD_MAX_FILE_BYTES (PAYLOAD_TOO_LARGE), not at the model-package limit", async () => {
    const r = await postProbe(overImageLimit, clinician.token);
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'file' });
  });

  it("lets an admin's file up to MODEL_PACKAGE_MAX_BYTES through, and stops it past that", async () => {
    const ok = await postProbe(overImageLimit, admin.token);
    expect(ok.body).toEqual({
      data: {
        uploadProbe: `probe.bin:${overImageLimit.length}:${createHash('sha256').update(overImageLimit).digest('hex')}`,
      },
    });
    const tooBig = await postProbe(Buffer.alloc(PACKAGE_LIMIT + 1024, 5), admin.token);
    expect(tooBig.body.errors[0].extensions).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});
