import path from 'node:path';
import {
  connectedToEdge,
  convexHull,
  convexHullMask,
  detectFieldOfView,
  greyQuantile,
  MARGIN_FRACTION,
  shrinkGrey,
} from './field-of-view';
import { greyFromRgb } from './mask-metrics';
import { decodeRgb } from './render';

const ISIC = path.join(__dirname, '../../datasets/isic-uda1/images');

/**
 * A synthetic dermoscope photograph, 200 x 150: the scope's window a disc of radius 90 around the
 * centre (clipped by the top and bottom of the frame) at grey 200, its surround at 10, and a lesion
 * disc of radius 20 at grey 60 in the middle.
 */
function vignette(surround = 10): { grey: Float32Array; width: number; height: number } {
  const [width, height] = [200, 150];
  const grey = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const d = Math.hypot(x - 99.5, y - 74.5);
      grey[y * width + x] = d <= 20 ? 60 : d <= 90 ? 200 : surround;
    }
  return { grey, width, height };
}

describe('field of view', () => {
  it('finds a synthetic vignette: the surround and a margin out, the window in', () => {
    const { grey, width, height } = vignette();
    const f = detectFieldOfView(grey, width, height);
    expect(f.detected).toBe(true);
    // The margin is an odd square about 2 % of the short side: 2 * round(3 / 2) + 1 = 5 px here.
    const margin = 2 * Math.round((MARGIN_FRACTION * 150) / 2) + 1;
    expect(margin).toBe(5);
    let [inside, surroundIn, windowOut] = [0, 0, 0];
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const d = Math.hypot(x - 99.5, y - 74.5);
        const v = f.mask[y * width + x];
        inside += v;
        if (d > 90 && v) surroundIn++; // the surround
        if (d < 90 - 1 - Math.SQRT2 * ((margin - 1) / 2 + 1) && !v) windowOut++; // the window less its margin
      }
    expect({ surroundIn, windowOut }).toEqual({ surroundIn: 0, windowOut: 0 });
    expect(f.visiblePercent).toBeCloseTo((100 * inside) / (width * height), 12);
    // Between the window shrunk by the margin's reach and the window itself (clipped by the frame: 78 %).
    const within = (r: number) => {
      let n = 0;
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (Math.hypot(x - 99.5, y - 74.5) <= r) n++;
      return (100 * n) / (width * height);
    };
    expect(within(90)).toBeCloseTo(78, 0);
    expect(f.visiblePercent).toBeLessThan(within(90));
    expect(f.visiblePercent).toBeGreaterThan(within(90 - 1 - Math.SQRT2 * 3));
    // The dark lesion in the middle is inside the field.
    expect(f.mask[74 * width + 99]).toBe(1);
  });

  it('keeps a dark lesion that touches the surround inside the field (the field is convex)', () => {
    const { grey, width, height } = vignette();
    // A near-black lesion from the window's right edge inwards: as dark as the surround and joined to it.
    for (let y = 65; y < 85; y++) for (let x = 150; x < 192; x++) grey[y * width + x] = 10;
    const f = detectFieldOfView(grey, width, height);
    expect(f.detected).toBe(true);
    expect(f.mask[75 * width + 160]).toBe(1);
    expect(f.mask[75 * width + 185]).toBe(1);
  });

  it('finds nothing in an image without a surround, even with a dark lesion at its edge', () => {
    const [width, height] = [120, 90];
    const grey = new Float32Array(width * height).fill(180);
    for (let y = 30; y < 60; y++) for (let x = 0; x < 25; x++) grey[y * width + x] = 15;
    const f = detectFieldOfView(grey, width, height);
    expect(f).toEqual({ mask: new Uint8Array(width * height).fill(1), detected: false, visiblePercent: 100 });
    expect(detectFieldOfView(new Float32Array(12).fill(0), 4, 3).detected).toBe(false);
  });

  it('computes its parts exactly on small cases', () => {
    expect(greyQuantile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], 0.95)).toBe(90);
    expect(greyQuantile([5, 5, 5, 200], 0.5)).toBe(5);
    // 1 1 0 / 0 1 0 / 0 0 1: the edge-connected set through 1s (4-connected) leaves nothing out here,
    // every 1 is on the edge or next to one that is.
    expect(Array.from(connectedToEdge(Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0, 1]), 3, 3))).toEqual([
      1, 1, 0, 0, 1, 0, 0, 0, 1,
    ]);
    // An interior 1 with no path to the edge is not reached.
    const ring = Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(connectedToEdge(ring, 4, 3))).toEqual(new Array(12).fill(0));
    expect(
      convexHull([
        [0, 0],
        [2, 0],
        [1, 1],
        [2, 2],
        [0, 2],
        [1, 0],
      ]),
    ).toEqual([
      [0, 0],
      [2, 0],
      [2, 2],
      [0, 2],
    ]);
    // The hull of an L fills its corner.
    const l = Uint8Array.from([1, 0, 0, 1, 0, 0, 1, 1, 1]);
    expect(Array.from(convexHullMask(l, 3, 3))).toEqual([1, 0, 0, 1, 1, 0, 1, 1, 1]);
  });

  // Hand-checked on overlays of the shipped segmenters' masks (docs/inference.md, "Post-processing").
  it.each([
    // [image, surround expected, visible % range]
    ['ISIC_0000290', true, [45, 55]], // a round window in a black surround
    ['ISIC_0000170', true, [80, 90]], // black bands at the top and bottom
    ['ISIC_0000274', true, [65, 80]], // an oval window
    ['ISIC_0000150', false, [100, 100]], // skin to the edges
    ['ISIC_0000330', false, [100, 100]], // dark corners that are skin in shadow, not a surround
  ])('on the real image %s: surround %p, visible %p %%', async (name, found, [lo, hi]) => {
    const img = await decodeRgb(path.join(ISIC, `${name}.jpg`));
    const f = detectFieldOfView(greyFromRgb(img.data), img.width, img.height);
    expect(f.detected).toBe(found);
    expect(f.visiblePercent).toBeGreaterThanOrEqual(lo as number);
    expect(f.visiblePercent).toBeLessThanOrEqual(hi as number);
    // The image's centre is always inside.
    expect(f.mask[Math.floor(img.height / 2) * img.width + Math.floor(img.width / 2)]).toBe(1);
    if (found) expect(f.mask[0]).toBe(0); // the top-left corner is surround
  });
});

describe('field of view of a large image', () => {
  it('is found on the image averaged down (factor 3 at 1200 x 900) and scaled back', () => {
    const { grey, width, height } = vignette();
    // The synthetic photograph at 6x (each pixel a 6 x 6 block): 1200 x 900 is averaged down by 3 to 400 x 300.
    const [W, H] = [width * 6, height * 6];
    const big = new Float32Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) big[y * W + x] = grey[Math.floor(y / 6) * width + Math.floor(x / 6)];
    const shrunk = shrinkGrey(big, W, H, 3);
    expect([shrunk.width, shrunk.height]).toEqual([400, 300]);
    expect(shrunk.grey[0]).toBe(10);
    const f = detectFieldOfView(big, W, H);
    expect(f.detected).toBe(true);
    // Window radius 540 px around (599.5, 449.5) at this size; the margin is 7 px of the 400 x 300 image
    // (21 px here), plus up to a block of 3 px and a 6-px pixel of the original drawing.
    const [outer, inner] = [540, 540 - Math.SQRT2 * (21 + 3) - 6];
    let [surroundIn, windowOut, inside] = [0, 0, 0];
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - 599.5, y - 449.5);
        const v = f.mask[y * W + x];
        inside += v;
        if (d > outer + 6 && v) surroundIn++;
        if (d < inner && !v) windowOut++;
      }
    expect({ surroundIn, windowOut }).toEqual({ surroundIn: 0, windowOut: 0 });
    expect(f.visiblePercent).toBeCloseTo((100 * inside) / (W * H), 10);
  });
});
