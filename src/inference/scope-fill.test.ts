import { fillScopeSurround } from './scope-fill';

/** A width x height RGB image: `f(x, y)` gives each pixel's colour. */
function paint(width: number, height: number, f: (x: number, y: number) => readonly number[]): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(f(x, y), (y * width + x) * 3);
  return out;
}

describe('fillScopeSurround', () => {
  const [w, h] = [100, 100];
  const skin = [200, 150, 130];
  const lesion = [90, 60, 50];
  const inDisc = (x: number, y: number, r: number) => (x - 49.5) ** 2 + (y - 49.5) ** 2 <= r * r;

  it('paints the black surround of a scope window the median colour of the field', () => {
    // A skin disc of radius 40 in black, with a dark lesion of radius 12 at its centre.
    const rgb = paint(w, h, (x, y) => (inDisc(x, y, 12) ? lesion : inDisc(x, y, 40) ? skin : [0, 0, 0]));
    const before = rgb.slice();
    const { rgb: out, filled } = fillScopeSurround(rgb, w, h);
    expect(filled).toBe(true);
    expect(Array.from(out.subarray(0, 3))).toEqual(skin); // a corner
    expect(Array.from(out.subarray((50 * w + 50) * 3, (50 * w + 50) * 3 + 3))).toEqual(lesion); // the lesion stays
    // Nothing dark is left outside the lesion: the surround and the window's edge are skin.
    for (let i = 0; i < w * h; i++)
      if (!inDisc(i % w, Math.floor(i / w), 12)) expect(Array.from(out.subarray(i * 3, i * 3 + 3))).toEqual(skin);
    expect(rgb).toEqual(before); // the caller's pixels are untouched
  });

  it('returns the very pixels when nothing near-black reaches the edge', () => {
    const rgb = paint(w, h, (x, y) => (x < 30 && y < 30 ? lesion : skin));
    const r = fillScopeSurround(rgb, w, h);
    expect(r.filled).toBe(false);
    expect(r.rgb).toBe(rgb);
  });
});
