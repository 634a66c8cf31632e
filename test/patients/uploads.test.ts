import { createHash } from 'node:crypto';
import fs from 'node:fs';
import sharp from 'sharp';
import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, errorCode, fixture, JPEGS, snapshot, uploadImages } from './helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('uploadImages', () => {
  let server: TestServer;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let patientId: string;
  let png: Buffer;
  let webp: Buffer;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        UPLOAD_MAX_FILE_BYTES: String(2 * 1024 * 1024),
        UPLOAD_MAX_FILES: '4',
        UPLOAD_MAX_PIXELS: String(40_000_000),
      },
    });
    alice = await createSignedInUser(server, { role: Role.CLINICIAN });
    bob = await createSignedInUser(server, { role: Role.CLINICIAN });
    patientId = await createPatient(server, alice.token);
    const real = sharp(fixture(JPEGS[0]));
    png = await real.clone().png().toBuffer();
    webp = await real.clone().webp().toBuffer();
  });
  afterAll(() => server?.close());

  it('stores real JPEG, PNG and WebP files, typed from their bytes, originals byte for byte', async () => {
    const jpeg = fixture(JPEGS[0]);
    const res = await uploadImages(server, alice.token, { patientId }, [
      { name: 'a.jpg', data: jpeg },
      // Names and declared types lie: the bytes decide.
      { name: 'b.jpg', data: png, type: 'image/jpeg' },
      { name: 'c.png', data: webp, type: 'image/png' },
    ]);
    expect(res.errors).toBeUndefined();
    const images = res.data.uploadImages;
    expect(images.map((i: any) => i.format)).toEqual(['JPEG', 'PNG', 'WEBP']);
    expect(images.map((i: any) => i.mimeType)).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    expect(images[0]).toMatchObject({
      width: 250,
      height: 250,
      byteSize: jpeg.length,
      sha256: sha(jpeg),
      originalName: 'a.jpg',
      patientId,
    });
    // The stored original is the upload, byte for byte.
    expect(fs.readFileSync(server.services.files.path(sha(jpeg))).equals(jpeg)).toBe(true);
    expect(fs.readFileSync(server.services.files.path(sha(png))).equals(png)).toBe(true);
  });

  it("keeps a client's file name without control characters (a %00 in an RFC 5987 filename* reached PostgreSQL before)", async () => {
    // Issue [7]: no input a client controls may reach the database as text it cannot hold.
    const boundary = 'dg-boundary';
    const operations = JSON.stringify({
      query: `mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { originalName } }`,
      variables: { p: patientId, f: [null] },
    });
    const part = (headers: string, body: string | Buffer) =>
      Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')]);
    const body = Buffer.concat([
      part('Content-Disposition: form-data; name="operations"', operations),
      part('Content-Disposition: form-data; name="map"', JSON.stringify({ 0: ['variables.f.0'] })),
      part(
        `Content-Disposition: form-data; name="0"; filename*=UTF-8''lesion%00%07%20left.jpg\r\nContent-Type: image/jpeg`,
        fixture(JPEGS[2]),
      ),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice.token}`,
        'apollo-require-preflight': 'true',
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body,
    });
    const json = (await res.json()) as any;
    expect(json.errors).toBeUndefined();
    expect(json.data.uploadImages[0].originalName).toBe('lesion left.jpg');
  });

  it('stores the same bytes once, whatever the number of uploads', async () => {
    const jpeg = fixture(JPEGS[1]);
    const before = await snapshot(server);
    const res = await uploadImages(server, alice.token, { patientId }, [
      { name: 'x.jpg', data: jpeg },
      { name: 'y.jpg', data: jpeg },
    ]);
    expect(res.errors).toBeUndefined();
    const again = await uploadImages(server, alice.token, { patientId }, [{ name: 'z.jpg', data: jpeg }]);
    expect(again.errors).toBeUndefined();
    const after = await snapshot(server);
    expect(after.images - before.images).toBe(3);
    // One original (derived copies are made when first asked for).
    expect(after.files - before.files).toBe(1);
  });

  it('applies EXIF orientation to derived copies, which carry no EXIF; the original keeps it', async () => {
    // A real lesion image cropped to 250x150 and tagged "rotate 90° clockwise" (orientation 6), with a GPS-like comment in EXIF.
    const oriented = await sharp(fixture(JPEGS[2]))
      .extract({ left: 0, top: 0, width: 250, height: 150 })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Make: 'PhoneMaker', Model: 'Secret-Device' } })
      .toBuffer();
    expect(oriented.includes(Buffer.from('Secret-Device'))).toBe(true);
    expect((await sharp(oriented).metadata()).orientation).toBe(6);
    const res = await uploadImages(
      server,
      alice.token,
      { patientId },
      [{ name: 'rot.jpg', data: oriented }],
      'id width height orientation thumb: url(variant: THUMBNAIL) norm: url(variant: NORMALIZED) orig: url',
    );
    expect(res.errors).toBeUndefined();
    const img = res.data.uploadImages[0];
    expect(img).toMatchObject({ width: 250, height: 150, orientation: 6 });
    const local = (u: string) => u.replace('http://127.0.0.1:4000', new URL(server.url).origin);
    for (const u of [img.norm, img.thumb]) {
      const r = await fetch(local(u));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/jpeg');
      const body = Buffer.from(await r.arrayBuffer());
      const meta = await sharp(body).metadata();
      // Rotated: portrait now, and nothing of the EXIF left.
      expect(meta.height!).toBeGreaterThan(meta.width!);
      expect(meta.exif).toBeUndefined();
      expect(meta.orientation).toBeUndefined();
      expect(body.includes(Buffer.from('Secret-Device'))).toBe(false);
    }
    const orig = Buffer.from(await (await fetch(local(img.orig))).arrayBuffer());
    expect(orig.equals(oriented)).toBe(true);
  });

  it('accepts TIFF', async () => {
    const tiff = await sharp(fixture(JPEGS[0])).tiff().toBuffer();
    const res = await uploadImages(
      server,
      alice.token,
      { patientId },
      [{ name: 'scan.dat', data: tiff }],
      'format mimeType',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.uploadImages[0]).toEqual({ format: 'TIFF', mimeType: 'image/tiff' });
  });

  describe('hostile inputs leave the database and the store as they were', () => {
    const cases: [
      string,
      () => Promise<{ files: { name: string; data: Buffer }[]; patient?: () => string; token?: () => string }>,
      string,
    ][] = [
      [
        'a text file named .jpg',
        async () => ({ files: [{ name: 'notes.jpg', data: Buffer.from('this is not an image\n'.repeat(50)) }] }),
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a GIF (real image, format not accepted)',
        async () => ({ files: [{ name: 'a.gif', data: await sharp(fixture(JPEGS[0])).gif().toBuffer() }] }),
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a truncated JPEG',
        async () => {
          const j = fixture(JPEGS[1]);
          return { files: [{ name: 't.jpg', data: j.subarray(0, Math.floor(j.length * 0.6)) }] };
        },
        'BAD_USER_INPUT',
      ],
      [
        // The JPEG header is read in JavaScript (jpegHeader): its frame says 60000x60000.
        'a JPEG whose header claims 60000x60000 pixels',
        async () => {
          const j = Buffer.from(fixture(JPEGS[0]));
          const sof = j.findIndex((b, i) => b === 0xff && j[i + 1] === 0xc0);
          j.writeUInt16BE(60000, sof + 5);
          j.writeUInt16BE(60000, sof + 7);
          return { files: [{ name: 'bomb.jpg', data: j }] };
        },
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'a 20000x20000 PNG bomb',
        async () => ({
          files: [
            {
              name: 'bomb.png',
              data: await sharp({
                create: { width: 20000, height: 20000, channels: 3, background: '#000' },
                limitInputPixels: false,
              })
                .toColourspace('b-w')
                .png({ compressionLevel: 9 })
                .toBuffer(),
            },
          ],
        }),
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'a file over the byte limit',
        async () => ({
          files: [{ name: 'big.jpg', data: Buffer.concat([fixture(JPEGS[0]), Buffer.alloc(2 * 1024 * 1024)]) }],
        }),
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'too many files',
        async () => ({
          files: Array.from({ length: 5 }, (_, i) => ({ name: `${i}.jpg`, data: fixture(JPEGS[i % 3]) })),
        }),
        'PAYLOAD_TOO_LARGE',
      ],
      [
        "another clinician's patient",
        async () => ({ files: [{ name: 'a.jpg', data: fixture(JPEGS[0]) }], token: () => bob.token }),
        'NOT_FOUND',
      ],
      // The first file is read while the access check is out: the access error is still the answer.
      [
        "another clinician's patient, with a file that is no image",
        async () => ({ files: [{ name: 'a.jpg', data: Buffer.from('nope') }], token: () => bob.token }),
        'NOT_FOUND',
      ],
      [
        "another clinician's patient, with a file over the byte limit",
        async () => ({
          files: [{ name: 'big.jpg', data: Buffer.concat([fixture(JPEGS[0]), Buffer.alloc(2 * 1024 * 1024)]) }],
          token: () => bob.token,
        }),
        'NOT_FOUND',
      ],
      [
        'a patient id that does not exist',
        async () => ({
          files: [{ name: 'a.jpg', data: fixture(JPEGS[0]) }],
          patient: () => '00000000-0000-4000-8000-000000000000',
        }),
        'NOT_FOUND',
      ],
      // A good file first: it is stored and derived before the bad one fails, and must be gone after.
      [
        'a good new file then a bad one in one batch',
        async () => ({
          files: [
            { name: 'ok.png', data: await sharp(fixture(JPEGS[2])).png().toBuffer() },
            { name: 'bad.jpg', data: Buffer.from('nope') },
          ],
        }),
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    it.each(cases)('%s', async (_name, make, code) => {
      const c = await make();
      const before = await snapshot(server);
      const res = await uploadImages(
        server,
        c.token?.() ?? alice.token,
        { patientId: c.patient?.() ?? patientId },
        c.files,
      );
      expect(errorCode(res)).toBe(code);
      expect(await snapshot(server)).toEqual(before);
    });

    it('an archived patient', async () => {
      const archived = await createPatient(server, alice.token);
      await server.gql(`mutation($id: ID!) { archivePatient(id: $id) { id } }`, { id: archived }, alice.token);
      const before = await snapshot(server);
      const res = await uploadImages(server, alice.token, { patientId: archived }, [
        { name: 'a.jpg', data: fixture(JPEGS[0]) },
      ]);
      expect(errorCode(res)).toBe('CONFLICT');
      expect(await snapshot(server)).toEqual(before);
    });

    it('a lesion of another patient', async () => {
      const other = await createPatient(server, alice.token);
      const l = await server.gql(
        `mutation($p: ID!) { createLesion(patientId: $p, input: { bodySite: "back", label: "L1" }) { id } }`,
        { p: other },
        alice.token,
      );
      const before = await snapshot(server);
      const res = await uploadImages(server, alice.token, { patientId, lesionId: (l.data as any).createLesion.id }, [
        { name: 'a.jpg', data: fixture(JPEGS[0]) },
      ]);
      expect(errorCode(res)).toBe('NOT_FOUND');
      expect(await snapshot(server)).toEqual(before);
    });
  });
});
