import { decodeMap, encodeMap } from '../cam-map-file';
import { opacityVariant } from './result-files';

describe('stored Grad-CAM maps', () => {
  it('round-trip at 8 bits, clamped to [0, 1]', () => {
    const map = [0, 0.5, 1, 1.7, -0.2, NaN];
    const bytes = encodeMap(map, 3, 2);
    expect(bytes.length).toBe(16 + 6);
    const back = decodeMap(bytes);
    expect(back).toMatchObject({ width: 3, height: 2 });
    expect(Array.from(back.map, (v) => Math.round(v * 255))).toEqual([0, 128, 255, 255, 0, 0]);
  });

  it('refuses other bytes and truncated maps', () => {
    expect(() => decodeMap(Buffer.from('not a map at all, really'))).toThrow(/not a stored/);
    expect(() => decodeMap(encodeMap([1, 1, 1, 1], 2, 2).subarray(0, 18))).toThrow(/truncated/);
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
