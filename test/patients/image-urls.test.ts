import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Role } from '../../src/entities';
import { signature } from '../../src/infra/storage/signed-urls';
import { uploadImages as uploadService } from '../../src/modules/images/uploads.service';
import { Readable } from 'node:stream';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, fixture, JPEGS, snapshot, uploadImages } from './helpers';

describe('signed image URLs and batch cleanup', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let patientId: string;
  let image: { id: string; sha256: string; orig: string; thumb: string; norm: string };
  const local = (u: string) => u.replace('http://127.0.0.1:4000', new URL(server.url).origin);

  beforeAll(async () => {
    server = await startTestServer({ env: { SIGNED_URL_TTL_SECONDS: '60' } });
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    patientId = await createPatient(server, alice.token);
    const res = await uploadImages(
      server,
      alice.token,
      { patientId },
      [{ name: 'a.jpg', data: fixture(JPEGS[0]) }],
      'id sha256 orig: url thumb: url(variant: THUMBNAIL) norm: url(variant: NORMALIZED)',
    );
    image = res.data.uploadImages[0];
  });
  afterAll(() => server?.close());

  it('makes the derived copies when first asked for, not at upload', async () => {
    const files = server.services.files;
    expect([
      await files.cachedPath(image.sha256, 'thumbnail'),
      await files.cachedPath(image.sha256, 'normalized'),
    ]).toEqual([null, null]);
    const thumb = await fetch(local(image.thumb));
    expect(thumb.status).toBe(200);
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(bytes.equals(await readFile((await files.cachedPath(image.sha256, 'thumbnail'))!))).toBe(true);
    expect(await files.cachedPath(image.sha256, 'normalized')).not.toBeNull();
  });

  it('serves each variant with its content type and cache headers; the original byte for byte', async () => {
    const orig = await fetch(local(image.orig));
    expect(orig.status).toBe(200);
    expect(orig.headers.get('content-type')).toBe('image/jpeg');
    // Valid for 60 to 120 s: the expiry is rounded up to the end of a 60 s window (stable URLs).
    expect(orig.headers.get('cache-control')).toMatch(/^private, max-age=([5-9]\d|1[01]\d|120), immutable$/);
    expect(orig.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = orig.headers.get('etag')!;
    expect(Buffer.from(await orig.arrayBuffer()).equals(fixture(JPEGS[0]))).toBe(true);
    expect((await fetch(local(image.orig), { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const u of [image.thumb, image.norm]) {
      const r = await fetch(local(u));
      expect([r.status, r.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    }
  });

  it('re-makes a derived copy once if the cache lost it', async () => {
    const p = (await server.services.files.cachedPath(image.sha256, 'thumbnail'))!;
    const { rm } = await import('node:fs/promises');
    await rm(p);
    const [a, b] = await Promise.all([fetch(local(image.thumb)), fetch(local(image.thumb))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(Buffer.from(await a.arrayBuffer()).equals(Buffer.from(await b.arrayBuffer()))).toBe(true);
  });

  it('answers 403 to a forged, altered or expired URL, and changes nothing', async () => {
    const before = await snapshot(server);
    const u = new URL(local(image.orig));
    const exp = u.searchParams.get('exp')!;
    const variants = [
      `${u.origin}${u.pathname}?exp=${exp}&sig=${'A'.repeat(43)}`, // forged signature
      `${u.origin}${u.pathname.replace('/original', '/thumbnail')}${u.search}`, // signature of another variant
      `${u.origin}${u.pathname}?exp=${Number(exp) + 3600}&sig=${u.searchParams.get('sig')}`, // expiry pushed out
      `${u.origin}${u.pathname}`, // no signature
      // Correctly signed, already expired.
      `${u.origin}${u.pathname}?exp=${Math.floor(Date.now() / 1000) - 1}&sig=${signature(server.config.URL_SIGNING_SECRET, { kind: 'image', id: image.id, variant: 'original' }, Math.floor(Date.now() / 1000) - 1)}`,
      // Signed with another secret.
      `${u.origin}${u.pathname}?exp=${exp}&sig=${signature('not-the-secret', { kind: 'image', id: image.id, variant: 'original' }, Number(exp))}`,
    ];
    for (const url of variants) {
      const r = await fetch(url);
      expect([url, r.status]).toEqual([url, 403]);
      const body = (await r.json()) as any;
      expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    const expired = await fetch(variants[4]);
    expect(((await expired.json()) as any).errors[0].message).toMatch(/expired/);
    expect(await snapshot(server)).toEqual(before);
  });

  it('removes files the failing batch stored when the rows do not commit, but keeps files other images use', async () => {
    const shared = fixture(JPEGS[0]); // already stored by beforeAll's image
    const fresh = fixture(JPEGS[2]);
    const before = await snapshot(server);
    const file = (data: Buffer, filename: string) =>
      Promise.resolve({ filename, mimetype: 'image/jpeg', createReadStream: () => Readable.from([data]) });
    const em = server.services.db.orm.em.fork();
    await expect(
      uploadService(
        { em, store: server.services.files, config: server.config },
        { id: alice.id, role: Role.CLINICIAN },
        { patientId, files: [file(shared, 'a.jpg'), file(fresh, 'b.jpg')] },
        {
          afterFilesPlaced: async () => {
            // Both files are in place at this point...
            const sha = createHash('sha256').update(fresh).digest('hex');
            expect(await server.services.files.exists(sha)).toBe(true);
            throw new Error('database went away');
          },
        },
      ),
    ).rejects.toThrow('database went away');
    // ...and after the failure only the one another image uses is left.
    expect(await snapshot(server)).toEqual(before);
    expect(await server.services.files.exists(image.sha256)).toBe(true);
    expect((await fetch(local(image.orig))).status).toBe(200);
  });

  it('lands concurrent batches of the same bytes with one stored file', async () => {
    const data = fixture(JPEGS[1]);
    const before = await snapshot(server);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        uploadImages(server, alice.token, { patientId }, [{ name: 'same.jpg', data }], 'id sha256'),
      ),
    );
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined]);
    const after = await snapshot(server);
    expect(after.images - before.images).toBe(4);
    expect(after.files - before.files).toBe(1); // the original; derived copies are made when first asked for
  });
});
