import path from 'node:path';
import sharp from 'sharp';
import { borderPixels, circularity, greyFromRgb, maskMetrics, overlap, perimeter } from './mask-metrics';

const FIXTURES = path.join(__dirname, '../../test/fixtures');

/** Decodes a PNG to one 8-bit channel. */
async function grey(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path.join(FIXTURES, file))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/**
 * Produced once by `/usr/bin/python3 test/fixtures/shapes/make_shapes.py` with Debian's
 * python3-skimage 0.19.3 (`skimage.measure.perimeter`, numpy mean/std); coins 4-neighbourhood
 * is also skimage's doctest value 7796.867...
 */
const SKIMAGE = {
  coins: {
    area: 43569,
    perimeter4: 7796.867996436004,
    perimeter8: 8806.268073325286,
    meanIntensity: 156.26629025224358,
    stdIntensity: 29.094739317683413,
  },
  disk: {
    area: 20069,
    perimeter4: 526.5584412271571,
    perimeter8: 632.0,
    circularity4: 0.9095832168179171,
    meanIntensity: 134.4385868752803,
    stdIntensity: 72.88104825737017,
  },
  star: {
    area: 8360,
    perimeter4: 747.6599923110721,
    perimeter8: 882.8284271247462,
    circularity4: 0.18793508191465752,
    meanIntensity: 117.49928229665072,
    stdIntensity: 71.67573344609137,
  },
  diskVsStar: { dice: 0.5680115375145098, jaccard: 0.39665929746990913 },
};

describe('perimeter (scikit-image estimator)', () => {
  it('reproduces the coins() > 110 doctest for both neighbourhoods', async () => {
    const coins = await grey('coins/coins.png');
    expect([coins.width, coins.height]).toEqual([384, 303]);
    const mask = coins.data.map((v) => (v > 110 ? 1 : 0));
    // The doctest prints "7796.867..." and "8806.268...": the value truncated to 3 decimals.
    const truncated = (v: number) => Math.floor(v * 1000) / 1000;
    expect(truncated(perimeter(mask, coins.width, coins.height, 4))).toBe(7796.867);
    expect(truncated(perimeter(mask, coins.width, coins.height, 8))).toBe(8806.268);
    expect(perimeter(mask, coins.width, coins.height, 4)).toBeCloseTo(SKIMAGE.coins.perimeter4, 9);
    expect(perimeter(mask, coins.width, coins.height, 8)).toBeCloseTo(SKIMAGE.coins.perimeter8, 9);
    const m = maskMetrics(mask, coins.width, coins.height, coins.data);
    expect(m.areaPixels).toBe(SKIMAGE.coins.area);
    expect(m.meanIntensity).toBeCloseTo(SKIMAGE.coins.meanIntensity, 9);
    expect(m.stdIntensity).toBeCloseTo(SKIMAGE.coins.stdIntensity, 9);
  });

  it('matches skimage on a drawn disk (circularity near 1) and a drawn star (low)', async () => {
    const g = await grey('shapes/gradient.png');
    for (const name of ['disk', 'star'] as const) {
      const img = await grey(`shapes/${name}.png`);
      const want = SKIMAGE[name];
      expect(perimeter(img.data, img.width, img.height, 4)).toBeCloseTo(want.perimeter4, 9);
      expect(perimeter(img.data, img.width, img.height, 8)).toBeCloseTo(want.perimeter8, 9);
      const m = maskMetrics(img.data, img.width, img.height, g.data);
      expect(m.areaPixels).toBe(want.area);
      expect(m.areaPercent).toBeCloseTo((100 * want.area) / (200 * 240), 12);
      expect(m.circularity).toBeCloseTo(want.circularity4, 9);
      expect(m.meanIntensity).toBeCloseTo(want.meanIntensity, 9);
      expect(m.stdIntensity).toBeCloseTo(want.stdIntensity, 9);
    }
    const disk = maskMetrics((await grey('shapes/disk.png')).data, 240, 200, g.data);
    const star = maskMetrics((await grey('shapes/star.png')).data, 240, 200, g.data);
    expect(disk.circularity).toBeGreaterThan(0.9);
    expect(star.circularity).toBeLessThan(0.2);
  });

  it('keeps the skimage circularity of the disk as the lesion circularity when edge fragments join the mask', async () => {
    const g = await grey('shapes/gradient.png');
    const disk = await grey('shapes/disk.png');
    const [w, h] = [disk.width, disk.height];
    // Two 4x20 fragments on the left and right edges, 36 px or more from the disk (x 40..200).
    const fragments = new Uint8Array(w * h);
    for (let y = 90; y < 110; y++) for (const x of [0, 1, 2, 3, w - 4, w - 3, w - 2, w - 1]) fragments[y * w + x] = 1;
    const mask = disk.data.map((v, i) => (v || fragments[i] ? 1 : 0));
    const m = maskMetrics(mask, w, h, g.data);
    expect(m.componentCount).toBe(3);
    expect(m.circularity).toBeCloseTo(SKIMAGE.disk.circularity4, 9);
    // Each 4x20 rectangle's border ring is 2*4 + 2*20 - 4 = 44 pixels, each of weight 1.
    expect(perimeter(fragments, w, h)).toBe(88);
    expect(m.areaPixels).toBe(SKIMAGE.disk.area + 160);
    expect(m.perimeterPixels).toBeCloseTo(SKIMAGE.disk.perimeter4 + 88, 9);
    expect(m.allPiecesCircularity).toBeCloseTo(
      (4 * Math.PI * (SKIMAGE.disk.area + 160)) / (SKIMAGE.disk.perimeter4 + 88) ** 2,
      12,
    );
  });

  it('counts edge pixels of the image as border (erosion with a zero border)', () => {
    // A full 3x3 image: only the centre survives 4- and 8-erosion.
    const full = new Uint8Array(9).fill(1);
    expect(Array.from(borderPixels(full, 3, 3, 4))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    // Hand-computed with skimage's kernel: corners have code 1+2+2 = 5 (weight 1), edges
    // 1+2+2 = 5 too (the centre is not border), so the 3x3 square's perimeter is 8.
    expect(perimeter(full, 3, 3, 4)).toBe(8);
  });

  it('follows the weight table on small shapes', () => {
    // A lone pixel has code 1: weight 0. A horizontal 1x3 bar: ends code 3 (0), middle 5 (1).
    expect(perimeter([1], 1, 1)).toBe(0);
    expect(perimeter([1, 1, 1], 3, 1)).toBe(1);
    // A diagonal of 3: ends 11 (0), middle 21 (sqrt 2).
    expect(perimeter([1, 0, 0, 0, 1, 0, 0, 0, 1], 3, 3)).toBeCloseTo(Math.SQRT2, 15);
  });
});

describe('maskMetrics edge cases', () => {
  it('gives zeros for an empty mask, no NaN', () => {
    const m = maskMetrics(new Uint8Array(12), 4, 3, new Uint8Array(12).fill(200));
    expect(m).toEqual({
      areaPixels: 0,
      areaPercent: 0,
      perimeterPixels: 0,
      circularity: 0,
      allPiecesCircularity: 0,
      componentCount: 0,
      meanIntensity: 0,
      stdIntensity: 0,
    });
  });
  it('clamps circularity into [0, 1]', () => {
    expect(circularity(100, 10)).toBe(1);
    expect(circularity(0, 0)).toBe(0);
    expect(circularity(5, 0)).toBe(0);
    // A unit circle (A = pi, P = 2 pi) is exactly 1; a unit square (A = 1, P = 4) is pi/4.
    expect(circularity(Math.PI, 2 * Math.PI)).toBeCloseTo(1, 15);
    expect(circularity(1, 4)).toBeCloseTo(Math.PI / 4, 15);
  });
  it('refuses a grey image of another size', () => {
    expect(() => maskMetrics(new Uint8Array(4), 2, 2, new Uint8Array(3))).toThrow(/grey image: expected 4/);
  });
  it('converts RGB to grey with skimage rgb2gray weights', () => {
    const g = greyFromRgb([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    expect(g[0]).toBeCloseTo(0.2125 * 255, 4);
    expect(g[1]).toBeCloseTo(0.7154 * 255, 4);
    expect(g[2]).toBeCloseTo(0.0721 * 255, 4);
    expect(g[3]).toBeCloseTo(255, 3);
  });
});

describe('overlap', () => {
  it('matches numpy on disk vs star', async () => {
    const d = await grey('shapes/disk.png');
    const s = await grey('shapes/star.png');
    const o = overlap(d.data, s.data);
    expect(o.dice).toBeCloseTo(SKIMAGE.diskVsStar.dice, 12);
    expect(o.jaccard).toBeCloseTo(SKIMAGE.diskVsStar.jaccard, 12);
    expect(overlap(d.data, d.data)).toEqual({ dice: 1, jaccard: 1 });
  });
  it('is 1/1 for two empty masks and 0/0 for disjoint ones', () => {
    expect(overlap([0, 0], [0, 0])).toEqual({ dice: 1, jaccard: 1 });
    expect(overlap([1, 0], [0, 1])).toEqual({ dice: 0, jaccard: 0 });
    // |A|=2, |B|=1, both=1: dice 2/3, jaccard 1/2
    expect(overlap([1, 1], [1, 0])).toEqual({ dice: 2 / 3, jaccard: 0.5 });
  });
});
