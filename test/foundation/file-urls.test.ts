import { Role } from '../../src/entities';
import { defaultPublicUrl, loadConfig } from '../../src/infra/config';
import { expiryFor } from '../../src/infra/storage/signed-urls';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, uploadImages } from '../patients/helpers';

/**
 * Issue [9], "Stable, working URLs": PUBLIC_URL follows the port the server listens on unless it is set;
 * a file URL is the same string across queries within its window, so browsers cache it; files carry
 * CORS headers for the allowed origins, so a front end can draw them on a canvas.
 */

describe('PUBLIC_URL', () => {
  it('defaults to the port (and a non-local HOST) the server listens on; an explicit PUBLIC_URL wins', () => {
    expect(loadConfig({}).PUBLIC_URL).toBe('http://localhost:4000');
    expect(loadConfig({ PORT: '5000' })).toMatchObject({
      PUBLIC_URL: 'http://localhost:5000',
      publicUrlFromPort: true,
    });
    expect(loadConfig({ PORT: '5000', HOST: '0.0.0.0' }).PUBLIC_URL).toBe('http://localhost:5000');
    expect(loadConfig({ PORT: '5000', HOST: '10.1.2.3' }).PUBLIC_URL).toBe('http://10.1.2.3:5000');
    expect(defaultPublicUrl('fd00::7', 5000)).toBe('http://[fd00::7]:5000');
    expect(loadConfig({ PORT: '5000', PUBLIC_URL: '' }).PUBLIC_URL).toBe('http://localhost:5000'); // empty = unset
    expect(loadConfig({ PORT: '5000', PUBLIC_URL: 'https://derm.example.org/api' })).toMatchObject({
      PUBLIC_URL: 'https://derm.example.org/api',
      publicUrlFromPort: false,
    });
  });
});

/** A clinician with one uploaded image, on `server`. */
async function withImage(server: TestServer): Promise<{ user: SignedInUser; imageId: string }> {
  const user = await createSignedInUser(server, { role: Role.CLINICIAN });
  const patientId = await createPatient(server, user.token);
  const up = await uploadImages(server, user.token, { patientId }, [{ name: 'a.jpg', data: fixture(JPEGS[0]) }]);
  return { user, imageId: up.data.uploadImages[0].id };
}

const imageUrl = async (server: TestServer, token: string, id: string, variant = 'THUMBNAIL'): Promise<string> => {
  const res = await server.gql<{ image: { url: string } }>(
    `query($id: ID!) { image(id: $id) { url(variant: ${variant}) } }`,
    { id },
    token,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.image.url;
};

describe('a server started with PUBLIC_URL unset', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PUBLIC_URL: '' } }); // PORT=0: a port chosen at listen time
  });
  afterAll(() => server?.close());

  it('hands out file URLs on the port it listens on, and they work', async () => {
    const { user, imageId } = await withImage(server);
    const url = await imageUrl(server, user.token, imageId);
    expect(new URL(url).origin).toBe(`http://localhost:${server.port}`);
    expect(server.config.PUBLIC_URL).toBe(`http://localhost:${server.port}`);
    const res = await fetch(url.replace('localhost', '127.0.0.1'));
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
  });
});

describe('signed file URLs', () => {
  let server: TestServer;
  let user: SignedInUser;
  let imageId: string;
  const local = (u: string) => u.replace('http://127.0.0.1:4000', new URL(server.url).origin);

  beforeAll(async () => {
    server = await startTestServer(); // PUBLIC_URL set explicitly (http://127.0.0.1:4000): it wins over the port
    ({ user, imageId } = await withImage(server));
  });
  afterAll(() => server?.close());

  it('use an explicit PUBLIC_URL as it is', async () => {
    expect(await imageUrl(server, user.token, imageId)).toMatch(/^http:\/\/127\.0\.0\.1:4000\/files\/images\//);
  });

  it('are the same string across two queries within one window', async () => {
    const ttl = server.config.SIGNED_URL_TTL_SECONDS;
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = Date.now();
      const a = await imageUrl(server, user.token, imageId);
      const b = await imageUrl(server, user.token, imageId);
      const original = await imageUrl(server, user.token, imageId, 'ORIGINAL');
      if (expiryFor(ttl, before) !== expiryFor(ttl, Date.now())) continue; // the queries straddled a window's end
      expect(b).toBe(a);
      expect(original).not.toBe(a);
      const exp = Number(new URL(a).searchParams.get('exp'));
      expect(exp * 1000 - before).toBeGreaterThanOrEqual(ttl * 1000 - 1000);
      const res = await fetch(local(a));
      expect(res.status).toBe(200);
      const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
      expect(maxAge).toBeGreaterThanOrEqual(ttl - 5);
      expect(maxAge).toBeLessThanOrEqual(2 * ttl);
      return;
    }
    throw new Error('every try straddled the end of a window');
  });

  it('carry CORS headers for an allowed origin (Vary: Origin always), none for another', async () => {
    const url = local(await imageUrl(server, user.token, imageId));
    const allowed = await fetch(url, { headers: { origin: 'http://localhost:3000' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    const other = await fetch(url, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toMatch(/origin/i);
    // Result files (Grad-CAM maps, masks) go through the same router: a refusal carries the header too.
    const refused = await fetch(`${new URL(server.url).origin}/files/gradcams/x.y/heatmap?exp=1&sig=x`, {
      headers: { origin: 'http://localhost:3000' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
  });
});
