import { colourise, TURBO, turboIndex } from './colormap';

describe('turbo colour map', () => {
  it('has 256 RGB entries', () => expect(TURBO.length).toBe(768));

  it.each([
    // matplotlib 3.6: cm.get_cmap('turbo')(v, bytes=True)[:3]
    [0, [48, 18, 59]],
    [0.00390625, [49, 21, 66]],
    [0.1, [68, 88, 203]],
    [0.25, [40, 187, 235]],
    [0.5, [164, 252, 59]],
    [0.7, [253, 163, 48]],
    [0.999, [122, 4, 2]],
    [1, [122, 4, 2]],
  ])('maps %p like matplotlib', (v, rgb) => {
    expect(Array.from(colourise([v]))).toEqual(rgb);
  });

  it('clamps out-of-range and NaN values', () => {
    expect(turboIndex(-1)).toBe(0);
    expect(turboIndex(Number.NaN)).toBe(0);
    expect(turboIndex(7)).toBe(255);
  });
});
