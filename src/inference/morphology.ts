/**
 * Grey-level morphology with a square structuring element, separable (rows, then columns) and
 * linear in the pixels whatever its size (van Herk / Gil-Werman running extremes), so a window of
 * 2 % of a 50-megapixel image costs what a 3 x 3 one does. Outside the image is ignored: the window
 * is clipped at the edges (as if padded with +inf for an erosion, -inf for a dilation).
 */

function checkSize(data: ArrayLike<number>, width: number, height: number, size: number): void {
  if (data.length !== width * height) throw new Error(`expected ${width * height} pixels, got ${data.length}`);
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0)
    throw new Error(`window size must be an odd positive integer, got ${size}`);
}

/**
 * One pass along `count` lines of `length` values `stride` apart, lines starting `lineStep` apart:
 * out[i] = the extreme over the clipped window [i - r, i + r]. Each line is copied into a buffer
 * padded with the identity (r each side); g holds running extremes from each block's start, h to each
 * block's end (blocks of `size`); a window spans at most two blocks, so its extreme is that of
 * h[start] and g[end]. Minimum and maximum have a loop each: no call per value on a hot path.
 */
function pass(
  src: ArrayLike<number>,
  out: Float32Array,
  length: number,
  stride: number,
  count: number,
  lineStep: number,
  size: number,
  max: boolean,
): void {
  const r = (size - 1) / 2;
  const padded = length + 2 * r;
  const line = new Float32Array(padded).fill(max ? -Infinity : Infinity);
  const g = new Float32Array(padded);
  const h = new Float32Array(padded);
  for (let n = 0; n < count; n++) {
    const base = n * lineStep;
    for (let i = 0; i < length; i++) line[r + i] = src[base + i * stride];
    for (let b = 0; b < padded; b += size) {
      const end = Math.min(b + size, padded);
      g[b] = line[b];
      h[end - 1] = line[end - 1];
      if (max) {
        for (let j = b + 1; j < end; j++) g[j] = line[j] > g[j - 1] ? line[j] : g[j - 1];
        for (let j = end - 2; j >= b; j--) h[j] = line[j] > h[j + 1] ? line[j] : h[j + 1];
      } else {
        for (let j = b + 1; j < end; j++) g[j] = line[j] < g[j - 1] ? line[j] : g[j - 1];
        for (let j = end - 2; j >= b; j--) h[j] = line[j] < h[j + 1] ? line[j] : h[j + 1];
      }
    }
    if (max) for (let i = 0; i < length; i++) out[base + i * stride] = h[i] > g[i + 2 * r] ? h[i] : g[i + 2 * r];
    else for (let i = 0; i < length; i++) out[base + i * stride] = h[i] < g[i + 2 * r] ? h[i] : g[i + 2 * r];
  }
}

/** Columns handled together by columnPass: g and h then hold (height + size) x STRIP values each. */
const STRIP = 256;

/**
 * The same running extremes down the columns, a strip of STRIP columns at a time and a whole strip row
 * at a time (g and h are images of strip rows), so memory is read in order (a column at a time would
 * jump a row's length between values) and the buffers stay a few megabytes at any image size.
 */
function columnPass(src: Float32Array, width: number, height: number, size: number, max: boolean): Float32Array {
  const r = (size - 1) / 2;
  const padded = height + 2 * r;
  const out = new Float32Array(width * height);
  const g = new Float32Array(padded * STRIP);
  const h = new Float32Array(padded * STRIP);
  const identity = max ? -Infinity : Infinity;
  for (let x0 = 0; x0 < width; x0 += STRIP) {
    const w = Math.min(STRIP, width - x0);
    // Strip row j of the padded column: the image's row j - r, or the identity outside the image.
    const fill = (dst: Float32Array, j: number) => {
      const from = (j - r) * width + x0;
      if (j >= r && j < r + height) dst.set(src.subarray(from, from + w), j * w);
      else dst.fill(identity, j * w, (j + 1) * w);
    };
    for (let b = 0; b < padded; b += size) {
      const end = Math.min(b + size, padded);
      fill(g, b);
      for (let j = b + 1; j < end; j++) {
        fill(g, j);
        const [o, p] = [j * w, (j - 1) * w];
        if (max) for (let x = 0; x < w; x++) g[o + x] = g[o + x] > g[p + x] ? g[o + x] : g[p + x];
        else for (let x = 0; x < w; x++) g[o + x] = g[o + x] < g[p + x] ? g[o + x] : g[p + x];
      }
      fill(h, end - 1);
      for (let j = end - 2; j >= b; j--) {
        fill(h, j);
        const [o, p] = [j * w, (j + 1) * w];
        if (max) for (let x = 0; x < w; x++) h[o + x] = h[o + x] > h[p + x] ? h[o + x] : h[p + x];
        else for (let x = 0; x < w; x++) h[o + x] = h[o + x] < h[p + x] ? h[o + x] : h[p + x];
      }
    }
    for (let i = 0; i < height; i++) {
      const [o, a, c] = [i * width + x0, i * w, (i + 2 * r) * w];
      if (max) for (let x = 0; x < w; x++) out[o + x] = h[a + x] > g[c + x] ? h[a + x] : g[c + x];
      else for (let x = 0; x < w; x++) out[o + x] = h[a + x] < g[c + x] ? h[a + x] : g[c + x];
    }
  }
  return out;
}

function filterSquare(
  data: ArrayLike<number>,
  width: number,
  height: number,
  size: number,
  max: boolean,
): Float32Array {
  checkSize(data, width, height, size);
  const rows = new Float32Array(width * height);
  pass(data, rows, width, 1, height, width, size, max);
  return columnPass(rows, width, height, size, max);
}

/** Minimum over the size x size window around each pixel (clipped at the edges). */
export function erodeSquare(data: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  return filterSquare(data, width, height, size, false);
}

/** Maximum over the size x size window around each pixel (clipped at the edges). */
export function dilateSquare(data: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  return filterSquare(data, width, height, size, true);
}

/**
 * Opening (erosion, then dilation): removes bright structures narrower than `size` in both directions
 * (a hair's line on a probability map) and leaves wider ones as they were, never raising a value.
 */
export function openSquare(data: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  return dilateSquare(erodeSquare(data, width, height, size), width, height, size);
}
