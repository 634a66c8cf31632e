import path from 'node:path';
import { decodeAndResize } from './preprocess';
import {
  assessQuality,
  isSkinColour,
  laplacianVariance,
  measureQuality,
  QUALITY_WORKING_SIZE,
  scoreQuality,
  toWorkingSize,
  type QualityThresholds,
} from './image-quality';

const N = QUALITY_WORKING_SIZE;
/** The configuration's defaults (QUALITY_* in src/infra/config/env.ts). */
const t: QualityThresholds = {
  minSharpness: 4,
  maxSharpness: 1000,
  minBrightness: 50,
  maxDarkFraction: 0.6,
  maxBrightFraction: 0.65,
  minSkinFraction: 0.1,
};
const solid = (r: number, g: number, b: number, w = N, h = N) => {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i += 3) [px[i], px[i + 1], px[i + 2]] = [r, g, b];
  return px;
};
/** Cells of `cell` pixels alternating between two colours. */
const checkerboard = (cell: number, a: number[], b: number[]) => {
  const px = new Uint8Array(N * N * 3);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) px.set((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? a : b, (y * N + x) * 3);
  return px;
};

describe('laplacianVariance', () => {
  it('is 0 on a flat image and on a linear ramp (the Laplacian of a plane is 0)', () => {
    expect(laplacianVariance(new Float32Array(25).fill(7), 5, 5)).toBe(0);
    expect(
      laplacianVariance(
        Float32Array.from({ length: 25 }, (_, i) => i),
        5,
        5,
      ),
    ).toBe(0);
  });

  it('is 16 v^2 on a one-pixel checkerboard of 0 and v (every Laplacian is +-4v)', () => {
    const g = Float32Array.from({ length: 36 }, (_, i) => (((i % 6) + Math.floor(i / 6)) % 2) * 10);
    expect(laplacianVariance(g, 6, 6)).toBeCloseTo(1600, 6);
  });

  it('is 0 on an image too small to have an interior', () => {
    expect(laplacianVariance(new Float32Array([0, 255, 0, 255]), 2, 2)).toBe(0);
  });
});

describe('isSkinColour (Chai & Ngan YCbCr box)', () => {
  it.each([
    [224, 172, 140, true], // light skin
    [141, 85, 36, true], // brown
    [90, 50, 30, true], // dark brown lesion: chroma, not luma, decides
    [128, 128, 128, false], // grey: Cb = Cr = 128
    [0, 0, 255, false],
    [0, 255, 0, false],
    [255, 255, 255, false],
  ])('rgb(%p, %p, %p) -> %p', (r, g, b, want) => expect(isSkinColour(r, g, b)).toBe(want));
});

describe('toWorkingSize', () => {
  it('returns the pixels as they are at the working size', () => {
    const px = solid(1, 2, 3);
    expect(toWorkingSize(px, N, N)).toBe(px);
  });

  it('averages areas: 2x2 blocks of 0 and 200 become 100; a solid colour stays itself at any size', () => {
    expect(Array.from(toWorkingSize(Uint8Array.from([0, 0, 0, 200, 200, 200]), 2, 1, 1))).toEqual([100, 100, 100]);
    expect(Array.from(toWorkingSize(solid(10, 20, 30, 300, 170), 300, 170).subarray(0, 6))).toEqual([
      10, 20, 30, 10, 20, 30,
    ]);
  });

  it('refuses a buffer of the wrong length', () => {
    expect(() => toWorkingSize(new Uint8Array(5), 2, 1)).toThrow(/expected 6 bytes/);
  });
});

describe('measureQuality / scoreQuality (known answers)', () => {
  it('a flat grey image reads as blurred (sharpness 0) and not skin', () => {
    const { quality, reasons } = assessQuality(solid(128, 128, 128), N, N, t);
    expect(quality.sharpness).toBe(0);
    expect(quality.meanBrightness).toBeCloseTo(128, 6);
    expect(reasons).toEqual(['BLURRED', 'NOT_DERMOSCOPY_LIKE']);
    expect(quality.score).toBe(0);
  });

  it('a black image is under-exposed: every pixel clipped dark, no lit pixel to be skin', () => {
    const { quality, reasons } = assessQuality(solid(0, 0, 0), N, N, t);
    expect(quality).toMatchObject({ darkFraction: 1, brightFraction: 0, meanBrightness: 0, skinFraction: 0 });
    expect(reasons).toContain('UNDER_EXPOSED');
  });

  it('a white image is over-exposed', () => {
    const { quality, reasons } = assessQuality(solid(255, 255, 255), N, N, t);
    expect(quality).toMatchObject({ darkFraction: 0, brightFraction: 1, skinFraction: 0 });
    expect(quality.meanBrightness).toBeCloseTo(255, 6);
    expect(reasons).toEqual(['BLURRED', 'OVER_EXPOSED', 'NOT_DERMOSCOPY_LIKE']);
  });

  it.each([
    ['blue', [0, 0, 255]],
    ['green', [0, 255, 0]],
  ])('a pure %s image is not skin', (_, [r, g, b]) => {
    const { quality, reasons } = assessQuality(solid(r, g, b), N, N, t);
    expect(quality.skinFraction).toBe(0);
    expect(reasons).toContain('NOT_DERMOSCOPY_LIKE');
  });

  it('a checkerboard of two skin tones in 8-pixel cells is sharp, lit and skin: no reason', () => {
    const { quality, reasons } = assessQuality(checkerboard(8, [224, 172, 140], [204, 152, 120]), N, N, t);
    expect(quality.sharpness).toBeGreaterThan(t.minSharpness);
    expect(quality.sharpness).toBeLessThan(t.maxSharpness);
    expect(quality.skinFraction).toBe(1);
    expect(reasons).toEqual([]);
    expect(quality.score).toBeGreaterThan(0.5);
  });

  it('a black-and-white checkerboard is far too sharp (and not skin) for dermoscopy', () => {
    const { quality, reasons } = assessQuality(checkerboard(2, [0, 0, 0], [255, 255, 255]), N, N, t);
    expect(quality.sharpness).toBeGreaterThan(t.maxSharpness);
    expect(reasons).toEqual(['NOT_DERMOSCOPY_LIKE']);
  });

  it('scores each component 0.5 exactly at its threshold, below 0.5 past it, and a 0 / 1 limit turns a check off', () => {
    const at = { sharpness: 4, darkFraction: 0, brightFraction: 0, meanBrightness: 150, skinFraction: 1 };
    expect(scoreQuality(at, t)).toEqual({ quality: { ...at, score: 0.5 }, reasons: [] });
    expect(scoreQuality({ ...at, sharpness: 3 }, t)).toMatchObject({ quality: { score: 0.375 }, reasons: ['BLURRED'] });
    const dark = { ...at, sharpness: 8, darkFraction: 0.6 };
    expect(scoreQuality(dark, t).quality.score).toBeCloseTo(0.5, 12);
    expect(scoreQuality({ ...dark, darkFraction: 0.61 }, t).reasons).toEqual(['UNDER_EXPOSED']);
    const off = {
      minSharpness: 0,
      maxSharpness: 0,
      minBrightness: 0,
      maxDarkFraction: 1,
      maxBrightFraction: 1,
      minSkinFraction: 0,
    };
    expect(assessQuality(solid(0, 0, 0), N, N, off)).toMatchObject({ quality: { score: 1 }, reasons: [] });
  });

  it.each(['ISIC_0000150', 'ISIC_0000184', 'ISIC_0000249', 'ISIC_0000175'])(
    'real dermoscopy %s (as the classifiers decode it, 128 x 128) passes',
    async (id) => {
      const px = await decodeAndResize(path.join('datasets/isic-uda1/images', `${id}.jpg`), {
        width: N,
        height: N,
        resize: 'fill',
      });
      const { quality, reasons } = assessQuality(px.data, px.width, px.height, t);
      expect(reasons).toEqual([]);
      expect(quality.score).toBeGreaterThan(0.5);
    },
  );

  it('measures a larger decode at the working size (a 250 px image and its 128 px decode agree on exposure)', async () => {
    const file = 'datasets/isic-uda1/images/ISIC_0000150.jpg';
    const big = await decodeAndResize(file, { width: 250, height: 250 });
    const small = await decodeAndResize(file, { width: N, height: N });
    const [a, b] = [measureQuality(big.data, 250, 250), measureQuality(small.data, N, N)];
    expect(a.meanBrightness).toBeCloseTo(b.meanBrightness, 0);
    expect(Math.abs(a.skinFraction - b.skinFraction)).toBeLessThan(0.02);
  });
});
