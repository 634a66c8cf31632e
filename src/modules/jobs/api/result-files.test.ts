import { camToImage } from '../../../inference/cam-map';
import { decodeMap, encodeMap, type StoredCam } from '../cam-map-file';
import { opacityVariant } from './result-files';

describe('stored Grad-CAM maps', () => {
  const cover = { mode: 'cover', modelWidth: 2, modelHeight: 2 } as const;

  it('store the CAM at feature resolution and read back the map camToImage makes of it, exactly', () => {
    const cam = Float64Array.from([0.1, 2.5, 1 / 3, 7, 0, 4.25]);
    const stored: StoredCam = { cam, camWidth: 3, camHeight: 2, width: 9, height: 5 };
    const bytes = encodeMap(stored);
    expect(bytes.length).toBe(33 + 6 * 8);
    const back = decodeMap(bytes);
    expect(back).toMatchObject({ width: 9, height: 5 });
    expect(Array.from(back.map)).toEqual(Array.from(camToImage(cam, 3, 2, 9, 5)));
    // The largest value lands where the CAM's largest one is, scaled to 1; the smallest to 0.
    expect(Math.max(...back.map)).toBe(1);
    expect(Math.min(...back.map)).toBe(0);
  });

  it("keep a 'cover' fit: pixels the model never saw stay 0", () => {
    const back = decodeMap(encodeMap({ cam: [0, 2], camWidth: 2, camHeight: 1, width: 6, height: 2, fit: cover }));
    expect(Array.from(back.map)).toEqual(Array.from(camToImage([0, 2], 2, 1, 6, 2, cover)));
    // 6x2 covered by a 2x2 model: only the centre 2x2 was seen.
    expect([back.map[0], back.map[5], back.map[6], back.map[11]]).toEqual([0, 0, 0, 0]);
    expect(back.map[3]).toBe(1);
  });

  it('still read maps stored one byte per pixel (DGMAP1)', () => {
    const v1 = Buffer.concat([
      Buffer.from('DGMAP1\n\0'),
      Buffer.from([0, 0, 0, 3, 0, 0, 0, 1]),
      Buffer.from([0, 51, 255]),
    ]);
    const back = decodeMap(v1);
    expect(back).toMatchObject({ width: 3, height: 1 });
    expect(Array.from(back.map)).toEqual([0, 51 / 255, 1].map(Math.fround));
  });

  it('refuse other bytes, truncated maps and impossible sizes', () => {
    const ok = encodeMap({ cam: [1, 2, 3, 4], camWidth: 2, camHeight: 2, width: 4, height: 4 });
    expect(() => decodeMap(Buffer.from('not a map at all, really'))).toThrow(/not a stored/);
    expect(() => decodeMap(ok.subarray(0, ok.length - 1))).toThrow(/truncated/);
    expect(() => decodeMap(ok.subarray(0, 20))).toThrow(/truncated/);
    expect(() => decodeMap(Buffer.concat([ok, Buffer.alloc(8)]))).toThrow(/truncated/);
    // A header claiming a 100000-pixel-wide image is refused before anything is allocated for it.
    const huge = Buffer.from(ok);
    huge.writeUInt32BE(100_000, 8);
    expect(() => decodeMap(huge)).toThrow(/not a stored/);
    const zero = Buffer.from(ok);
    zero.writeUInt32BE(0, 16);
    expect(() => decodeMap(zero)).toThrow(/not a stored/);
    expect(() => encodeMap({ cam: [1, 2, 3], camWidth: 2, camHeight: 2, width: 4, height: 4 })).toThrow(
      /needs 4 values/,
    );
  });
});

describe('opacityVariant', () => {
  it('names opacities with two decimals and refuses values outside 0..1 with the field', () => {
    expect(opacityVariant(undefined)).toBe('overlay-0.50');
    expect(opacityVariant(0.3)).toBe('overlay-0.30');
    expect(opacityVariant(1)).toBe('overlay-1.00');
    expect(() => opacityVariant(1.2)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'opacity' }) }),
    );
  });
});
