import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ImageFormat } from '../../entities/image';
import { decodeAndResize } from '../../inference/preprocess';
import { displayedSize, jpegHeader, makeDerivedCopies, probeImage, sniffDerivedType } from './image-processing';

const REAL = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'images', 'ISIC_0000150.jpg');

describe('image processing', () => {
  let dir: string;
  const write = async (name: string, data: Buffer) => {
    const p = path.join(dir, name);
    await fs.writeFile(p, data);
    return p;
  };
  beforeAll(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-img-'))));
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads type and size from the bytes of a real dermoscopy JPEG', async () => {
    expect(await probeImage(REAL, 1e6)).toEqual({
      format: ImageFormat.JPEG,
      mimeType: 'image/jpeg',
      width: 250,
      height: 250,
      orientation: 1,
      hasAlpha: false,
    });
    // The same from the bytes in memory (an upload's staged file).
    expect(await probeImage(await fs.readFile(REAL), 1e6)).toEqual(await probeImage(REAL, 1e6));
  });

  it('refuses more pixels than allowed from the header alone', async () => {
    await expect(probeImage(REAL, 250 * 250 - 1)).rejects.toMatchObject({
      extensions: { code: 'PAYLOAD_TOO_LARGE', width: 250, height: 250 },
    });
  });

  it("reads a JPEG's header in JavaScript as sharp reads it, and leaves every other case to sharp", async () => {
    const datasetDir = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'images');
    const jpegs = (await fs.readdir(datasetDir)).filter((n) => n.endsWith('.jpg'));
    expect(jpegs.length).toBeGreaterThan(0);
    const real = await fs.readFile(REAL);
    const rotated = await sharp(real).resize(40, 30).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const cmyk = await sharp(real).toColourspace('cmyk').jpeg().toBuffer();
    const progressive = await sharp(real).jpeg({ progressive: true }).toBuffer();
    for (const bytes of [
      ...(await Promise.all(jpegs.map((n) => fs.readFile(path.join(datasetDir, n))))),
      rotated,
      cmyk,
      progressive,
    ]) {
      const m = await sharp(bytes).metadata();
      expect(jpegHeader(bytes)).toEqual({
        format: 'jpeg',
        width: m.width,
        height: m.height,
        orientation: m.orientation ?? 1,
        hasAlpha: false,
      });
    }
    expect(jpegHeader(rotated)).toMatchObject({ width: 40, height: 30, orientation: 6 });
    expect(jpegHeader(await sharp(real).png().toBuffer())).toBeNull();
    expect(jpegHeader(real.subarray(0, 20))).toBeNull(); // no frame header yet: sharp decides
    expect(jpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]))).toBeNull();
    await expect(probeImage(real.subarray(0, 20), 1e6)).rejects.toMatchObject({
      extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
    });
  });

  it('limits the decode to the pixels allowed, whatever the probe read', async () => {
    const real = await fs.readFile(REAL);
    await expect(decodeAndResize(real, { width: 8, height: 8 }, 250 * 250 - 1)).rejects.toThrow(/pixel limit/);
    expect((await decodeAndResize(real, { width: 8, height: 8 }, 250 * 250)).data).toHaveLength(8 * 8 * 3);
  });

  it('refuses what is not an accepted image', async () => {
    const txt = await write('x.jpg', Buffer.from('hello'));
    await expect(probeImage(txt, 1e6)).rejects.toMatchObject({ extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const svg = await write('x.png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'));
    await expect(probeImage(svg, 1e6)).rejects.toMatchObject({
      extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', format: 'svg' },
    });
  });

  it('makes derived copies with orientation applied, bounded sizes, PNG when transparent, no metadata', async () => {
    const tagged = await write(
      'r.jpg',
      await sharp(REAL).resize(300, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
    );
    const copies = await makeDerivedCopies(tagged, { hasAlpha: false }, 1e6);
    const n = await sharp(copies.NORMALIZED.data).metadata();
    expect([n.format, n.width, n.height, n.orientation, n.exif]).toEqual(['jpeg', 100, 300, undefined, undefined]);
    const t = await sharp(copies.THUMBNAIL.data).metadata();
    expect(Math.max(t.width!, t.height!)).toBeLessThanOrEqual(256);
    const alpha = await write('a.png', await sharp(REAL).ensureAlpha(0.5).png().toBuffer());
    const a = await makeDerivedCopies(alpha, { hasAlpha: true }, 1e6);
    expect(a.NORMALIZED.mimeType).toBe('image/png');
    expect(sniffDerivedType(a.NORMALIZED.data)).toBe('image/png');
    expect(sniffDerivedType(a.THUMBNAIL.data)).toBe('image/jpeg');
  });

  it('fails a truncated JPEG at decode with BAD_USER_INPUT', async () => {
    const full = await fs.readFile(REAL);
    const cut = await write('t.jpg', full.subarray(0, Math.floor(full.length / 2)));
    const info = await probeImage(cut, 1e6); // the header alone looks fine
    await expect(makeDerivedCopies(cut, info, 1e6)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('displayedSize', () => {
  it('turns the size a quarter for EXIF orientations 5 to 8 only', () => {
    const size = (orientation: number) => displayedSize({ width: 300, height: 200, orientation });
    expect([1, 2, 3, 4].map(size)).toEqual(Array(4).fill({ width: 300, height: 200 }));
    expect([5, 6, 7, 8].map(size)).toEqual(Array(4).fill({ width: 200, height: 300 }));
  });
});
