import type { FieldOfView } from './field-of-view';
import { hairWindow, keepCentralComponents, lesionMask, touchesBorder, workingSize } from './lesion-mask';
import { overlap } from './mask-metrics';
import { openSquare } from './morphology';
import { memberProbabilityMap } from './segmentation-maps';

const noField = (n: number): FieldOfView => ({ mask: new Uint8Array(n).fill(1), detected: false, visiblePercent: 100 });

/** A width x height map with the pixels for which `f(x, y)` holds set to `v`. */
function draw(width: number, height: number, f: (x: number, y: number) => boolean, v = 1): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (f(x, y)) out[y * width + x] = v;
  return out;
}

describe('lesion mask post-processing', () => {
  it('sizes the hair window at 2 % of the short side, odd, at least 3', () => {
    expect(hairWindow(100, 80)).toBe(3);
    expect(hairWindow(250, 250)).toBe(7);
    expect(hairWindow(6000, 4000)).toBe(81);
  });

  it('keeps the pieces that reach the central zone and drops the others', () => {
    // 20 x 10: the zone is the ellipse of half-axes 5 x 2.5 around (9.5, 4.5).
    const mask = draw(
      20,
      10,
      (x, y) => (x >= 8 && x <= 10 && y >= 3 && y <= 5) || (x === 0 && y < 3) || (x === 14 && y === 5),
    );
    const kept = keepCentralComponents(mask, 20, 10);
    // The centre square and the pixel at (14, 5) (dx = 4.5 / 5 <= 1) stay; the corner sliver goes.
    expect(Array.from(kept)).toEqual(
      Array.from(draw(20, 10, (x, y) => (x >= 8 && x <= 10 && y >= 3 && y <= 5) || (x === 14 && y === 5))),
    );
    // Nothing central: the largest piece alone.
    const off = draw(20, 10, (x, y) => (x <= 2 && y <= 2) || (x === 19 && y === 9));
    expect(Array.from(keepCentralComponents(off, 20, 10))).toEqual(
      Array.from(draw(20, 10, (x, y) => x <= 2 && y <= 2)),
    );
  });

  it('says when the mask reaches the image edge or the field edge', () => {
    expect(
      touchesBorder(
        draw(5, 5, (x, y) => x === 2 && y === 2),
        5,
        5,
      ),
    ).toBe(false);
    expect(
      touchesBorder(
        draw(5, 5, (x, y) => x === 4 && y === 2),
        5,
        5,
      ),
    ).toBe(true);
    const field = Uint8Array.from(draw(5, 5, (x) => x <= 2));
    expect(
      touchesBorder(
        draw(5, 5, (x, y) => x === 1 && y === 2),
        5,
        5,
        field,
      ),
    ).toBe(false);
    expect(
      touchesBorder(
        draw(5, 5, (x, y) => x === 2 && y === 2),
        5,
        5,
        field,
      ),
    ).toBe(true);
  });

  it('removes a hair across a lesion, leaves the lesion, and drops an edge fragment', () => {
    // 120 x 100 (hair window 3): a disc of radius 20 in the middle at probability 0.9, a 1-pixel hair
    // through the whole image at 0.95, and an 8 x 30 fragment on the left edge at 0.8.
    const [w, h] = [120, 100];
    const disc = (x: number, y: number) => (x - 60) ** 2 + (y - 50) ** 2 <= 400;
    const p = draw(w, h, disc, 0.9);
    for (let x = 0; x < w; x++) p[45 * w + x] = 0.95;
    for (let y = 40; y < 70; y++) for (let x = 0; x < 8; x++) p[y * w + x] = 0.8;
    const r = lesionMask(p, w, h, 0.5, noField(w * h));
    // The disc as a 3 x 3 opening leaves it (its four one-pixel tips go), with no trace of the hair
    // or of the fragment.
    const lesion = Array.from(openSquare(draw(w, h, disc), w, h, 3));
    expect(Array.from(r.mask)).toEqual(lesion);
    expect(lesion.reduce((a, b) => a + b, 0)).toBe(draw(w, h, disc).reduce((a, b) => a + b, 0) - 4);
    expect(r.touchesBorder).toBe(false);
  });

  it('leaves out what lies outside the field, and flags a lesion cut by it', () => {
    const [w, h] = [60, 40];
    const p = draw(w, h, (x, y) => x >= 20 && x < 45 && y >= 10 && y < 30, 0.9);
    const field: FieldOfView = {
      mask: Uint8Array.from(draw(w, h, (x) => x < 40)),
      detected: true,
      visiblePercent: 200 / 3,
    };
    const r = lesionMask(p, w, h, 0.5, field);
    expect(Array.from(r.mask)).toEqual(Array.from(draw(w, h, (x, y) => x >= 20 && x < 40 && y >= 10 && y < 30)));
    expect(r.touchesBorder).toBe(true);
  });

  it('opens a large photograph at the working size: same lesion, same hair gone, never a value raised', () => {
    expect(workingSize(800, 600)).toEqual({ width: 800, height: 600 });
    expect(workingSize(4000, 3000)).toEqual({ width: 1024, height: 768 });
    expect(workingSize(3000, 4000)).toEqual({ width: 768, height: 1024 });
    // A 128 x 128 model output: a disc of radius 30 with a one-pixel hair line across the image.
    const output = draw(128, 128, (x, y) => (x - 64) ** 2 + (y - 64) ** 2 <= 900 || y === 20, 0.9);
    const member = { output, width: 128, height: 128, activation: 'none' as const };
    const [w, h] = [3000, 2000];
    const full = memberProbabilityMap(member, w, h);
    const work = workingSize(w, h);
    const working = { map: memberProbabilityMap(member, work.width, work.height), ...work };
    const fast = lesionMask(full, w, h, 0.5, noField(w * h), working);
    const exact = lesionMask(full, w, h, 0.5, noField(w * h));
    // The hair row (y = 20 of 128, rows 313 to 326 here) is lesion on the bare map, gone in both masks.
    const hairRow = 320 * w;
    expect(full.subarray(hairRow, hairRow + w).some((p) => p >= 0.5)).toBe(true);
    expect(fast.mask.subarray(hairRow, hairRow + w).some(Boolean)).toBe(false);
    expect(exact.mask.subarray(hairRow, hairRow + w).some(Boolean)).toBe(false);
    expect(overlap(fast.mask, exact.mask).dice).toBeGreaterThan(0.995);
    // Never more lesion than the thresholded map itself.
    expect(fast.mask.every((v, i) => !v || full[i] >= 0.5)).toBe(true);
    expect(fast.touchesBorder).toBe(false);
  });
});
