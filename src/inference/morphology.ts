/**
 * Grey-level morphology with a square structuring element, separable (rows, then columns) and
 * linear in the pixels whatever its size (van Herk / Gil-Werman running extremes), so a window of
 * 2 % of a 50-megapixel image costs what a 3 x 3 one does. Outside the image is ignored: the window
 * is clipped at the edges (as if padded with +inf for an erosion, -inf for a dilation).
 */

type Pick = (a: number, b: number) => number;
const MIN: Pick = (a, b) => (a < b ? a : b);
const MAX: Pick = (a, b) => (a > b ? a : b);

function checkSize(data: ArrayLike<number>, width: number, height: number, size: number): void {
  if (data.length !== width * height) throw new Error(`expected ${width * height} pixels, got ${data.length}`);
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0)
    throw new Error(`window size must be an odd positive integer, got ${size}`);
}

/**
 * One pass along lines of `length` values at `stride` apart, `count` lines starting `lineStep` apart:
 * out[i] = pick over the clipped window [i - r, i + r]. g holds running extremes from each block's
 * start, h to each block's end (blocks of `size` in padded coordinates); a window spans at most two
 * blocks, so its extreme is pick(h[start], g[end]).
 */
function pass(
  src: ArrayLike<number>,
  out: Float32Array,
  length: number,
  stride: number,
  count: number,
  lineStep: number,
  size: number,
  pick: Pick,
  identity: number,
): void {
  const r = (size - 1) / 2;
  const padded = length + 2 * r;
  const g = new Float32Array(padded);
  const h = new Float32Array(padded);
  for (let line = 0; line < count; line++) {
    const base = line * lineStep;
    const at = (j: number) => (j >= r && j < r + length ? src[base + (j - r) * stride] : identity);
    for (let j = 0; j < padded; j++) g[j] = j % size === 0 ? at(j) : pick(g[j - 1], at(j));
    for (let j = padded - 1; j >= 0; j--)
      h[j] = j % size === size - 1 || j === padded - 1 ? at(j) : pick(h[j + 1], at(j));
    for (let i = 0; i < length; i++) out[base + i * stride] = pick(h[i], g[i + 2 * r]);
  }
}

function filterSquare(
  data: ArrayLike<number>,
  width: number,
  height: number,
  size: number,
  pick: Pick,
  identity: number,
): Float32Array {
  checkSize(data, width, height, size);
  const rows = new Float32Array(width * height);
  pass(data, rows, width, 1, height, width, size, pick, identity);
  const out = new Float32Array(width * height);
  pass(rows, out, height, width, width, 1, size, pick, identity);
  return out;
}

/** Minimum over the size x size window around each pixel (clipped at the edges). */
export function erodeSquare(data: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  return filterSquare(data, width, height, size, MIN, Infinity);
}

/** Maximum over the size x size window around each pixel (clipped at the edges). */
export function dilateSquare(data: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  return filterSquare(data, width, height, size, MAX, -Infinity);
}

/**
 * Opening (erosion, then dilation): removes bright structures narrower than `size` in both directions
 * (a hair's line on a probability map) and leaves wider ones as they were, never raising a value.
 */
export function openSquare(data: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  return dilateSquare(erodeSquare(data, width, height, size), width, height, size);
}
