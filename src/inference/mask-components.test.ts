import { labelComponents, largestComponent, largestLabel } from './mask-components';

describe('labelComponents (8-connectivity)', () => {
  it('joins diagonal neighbours and numbers pieces in raster order', () => {
    // 5x4:            labels:
    // 1 0 0 1 1       1 0 0 2 2
    // 0 1 0 0 0       0 1 0 0 0
    // 0 0 0 0 1       0 0 0 0 3
    // 1 1 0 0 1       4 4 0 0 3
    const mask = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1];
    const c = labelComponents(mask, 5, 4);
    expect(c.count).toBe(4);
    expect(Array.from(c.labels)).toEqual([1, 0, 0, 2, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 4, 4, 0, 0, 3]);
    expect(c.areas).toEqual([2, 2, 2, 2]);
    // A tie goes to the first in raster order.
    expect(largestLabel(c)).toBe(1);
  });

  it('finds none in an empty mask, and the largest piece alone', () => {
    expect(labelComponents(new Uint8Array(6), 3, 2)).toEqual({ labels: new Int32Array(6), count: 0, areas: [] });
    expect(Array.from(largestComponent(new Uint8Array(6), 3, 2))).toEqual([0, 0, 0, 0, 0, 0]);
    // 1 0 1 1 / 0 0 1 0: the right piece (3 pixels) is the largest.
    expect(Array.from(largestComponent([1, 0, 1, 1, 0, 0, 1, 0], 4, 2))).toEqual([0, 0, 1, 1, 0, 0, 1, 0]);
  });

  it('refuses a mask of the wrong size', () => {
    expect(() => labelComponents([1, 0, 1], 2, 2)).toThrow(/expected 4 pixels/);
  });
});
