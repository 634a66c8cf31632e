import path from 'node:path';
import { decodeAndResize, type ResizedRgb } from '../../../inference/preprocess';
import { DecodedPixels, decodeKey } from './decoded-pixels';

const IMAGE = path.resolve(__dirname, '../../../../test/fixtures/images/ISIC_0000150.jpg');
const px = (bytes: number): Map<string, ResizedRgb> =>
  new Map([['k', { data: Buffer.alloc(bytes), width: 1, height: bytes / 3 }]]);

describe('DecodedPixels', () => {
  it('keeps exactly what decodeAndResize makes, once per distinct input size', async () => {
    const cache = new DecodedPixels();
    const a = { width: 128, height: 128 };
    const b = { width: 64, height: 48, resize: 'cover' as const };
    await cache.decode(IMAGE, 'sha', [a, { ...a, resize: 'fill' }, b], { width: 250, height: 250 });
    expect(cache.get('sha')!.size).toEqual({ width: 250, height: 250 });
    const got = cache.get('sha')!.pixels;
    expect([...got.keys()]).toEqual(['128x128:fill', '64x48:cover']);
    expect(got.get(decodeKey(a))!.data.equals((await decodeAndResize(IMAGE, a)).data)).toBe(true);
    expect(got.get(decodeKey(b))).toMatchObject({ width: 64, height: 48 });
    expect(cache.size).toBe(128 * 128 * 3 + 64 * 48 * 3);
  });

  it('lets the oldest go to stay within its bytes, and refuses an entry larger than all of them', () => {
    const cache = new DecodedPixels(300);
    cache.put('a', px(120));
    cache.put('b', px(120));
    cache.put('c', px(120)); // a goes
    expect([cache.get('a'), !!cache.get('b'), cache.get('c')?.size]).toEqual([undefined, true, null]);
    expect(cache.size).toBe(240);
    cache.put('big', px(301));
    expect([cache.get('big'), cache.size]).toEqual([undefined, 240]);
    cache.put('b', px(60)); // replaced, not counted twice
    expect(cache.size).toBe(180);
  });

  it('forgets entries after their time', () => {
    let now = 1000;
    const cache = new DecodedPixels(1000, 50, () => now);
    cache.put('a', px(30));
    now = 1049;
    expect(cache.get('a')).toBeDefined();
    now = 1050;
    expect([cache.get('a'), cache.size]).toEqual([undefined, 0]);
  });

  it('passes on a decode failure and keeps nothing', async () => {
    const cache = new DecodedPixels();
    await expect(cache.decode(__filename, 'sha', [{ width: 8, height: 8 }])).rejects.toThrow();
    expect([cache.get('sha'), cache.size]).toEqual([undefined, 0]);
  });
});
