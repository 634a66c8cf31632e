import { dilateSquare, erodeSquare, openSquare } from './morphology';

/** The definition, pixel by pixel: the extreme over the clipped size x size window. */
function bruteForce(data: number[], w: number, h: number, size: number, pick: (...v: number[]) => number) {
  const r = (size - 1) / 2;
  const out: number[] = [];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v: number[] = [];
      for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++)
        for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) v.push(data[yy * w + xx]);
      out.push(pick(...v));
    }
  return out;
}

describe('square morphology', () => {
  it('erodes and dilates a known 5x3 image with a 3x3 window (clipped at the edges)', () => {
    // 1 2 3 4 5
    // 6 7 8 9 0
    // 5 4 3 2 1
    const img = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 5, 4, 3, 2, 1];
    expect(Array.from(erodeSquare(img, 5, 3, 3))).toEqual([1, 1, 2, 0, 0, 1, 1, 2, 0, 0, 4, 3, 2, 0, 0]);
    expect(Array.from(dilateSquare(img, 5, 3, 3))).toEqual([7, 8, 9, 9, 9, 7, 8, 9, 9, 9, 7, 8, 9, 9, 9]);
    expect(Array.from(erodeSquare(img, 5, 3, 1))).toEqual(img);
  });

  it('equals the definition on larger windows, including windows wider than the image', () => {
    // A fixed pseudo-random image (a linear congruential sequence), so the case is the same every run.
    let s = 12345;
    const img = Array.from({ length: 13 * 9 }, () => (s = (s * 1103515245 + 12345) % 2 ** 31) % 256);
    for (const size of [3, 5, 7, 15, 31]) {
      expect(Array.from(erodeSquare(img, 13, 9, size))).toEqual(bruteForce(img, 13, 9, size, Math.min));
      expect(Array.from(dilateSquare(img, 13, 9, size))).toEqual(bruteForce(img, 13, 9, size, Math.max));
    }
  });

  it('equals the definition across strips of columns (an image wider than 256)', () => {
    let s = 777;
    const img = Array.from({ length: 600 * 7 }, () => (s = (s * 69069 + 1) % 2 ** 32) % 1000);
    expect(Array.from(erodeSquare(img, 600, 7, 5))).toEqual(bruteForce(img, 600, 7, 5, Math.min));
    expect(Array.from(dilateSquare(img, 600, 7, 9))).toEqual(bruteForce(img, 600, 7, 9, Math.max));
  });

  it('opening removes a 1-pixel line (a hair) and keeps a 5x5 square as it was', () => {
    const [w, h] = [20, 12];
    const img = new Float32Array(w * h);
    for (let x = 0; x < w; x++) img[2 * w + x] = 0.9; // the line along row 2
    for (let y = 5; y < 10; y++) for (let x = 8; x < 13; x++) img[y * w + x] = 0.8; // the square
    const out = openSquare(img, w, h, 3);
    for (let x = 0; x < w; x++) expect(out[2 * w + x]).toBe(0);
    expect(Array.from(out.subarray(5 * w, 10 * w))).toEqual(Array.from(img.subarray(5 * w, 10 * w)));
  });

  it('refuses an even window or a wrong size', () => {
    expect(() => erodeSquare([1, 2, 3, 4], 2, 2, 2)).toThrow(/odd positive/);
    expect(() => dilateSquare([1, 2, 3], 2, 2, 3)).toThrow(/expected 4 pixels/);
  });
});
