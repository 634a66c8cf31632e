/**
 * The dermoscope's field of view. Many dermoscopy photographs show the scope's circular window: a
 * bright disc (or a band, when the sensor crops it) in a near-black surround. Segmenters that look
 * for "darker than the skin" mark that surround as lesion; the server finds it and leaves it out.
 *
 * Method (all on the grey image, 0..255):
 * 1. dark = grey < DARK_FRACTION * (the 95th percentile of grey): the vignette is near black next to
 *    the brightest skin, whatever the exposure;
 * 2. the surround = the dark pixels 4-connected to the image's edge (a flood fill from the edge);
 * 3. the field = the convex hull of everything else: the scope's window is convex (a disc, an ellipse
 *    after a squashing resize, a disc clipped by the frame, a band), so a dark lesion that touches the
 *    surround at the edge is not cut out of the field with it;
 * 4. no vignette when the hull leaves out less than MIN_SURROUND_FRACTION of the image;
 * 5. the field is eroded by MARGIN_FRACTION of the image's short side: the window's edge is a soft
 *    dark-to-bright ramp a segmenter would still mark.
 */
import { erodeSquare } from './morphology';

export const DARK_FRACTION = 0.25;
export const MIN_SURROUND_FRACTION = 0.02;
export const MARGIN_FRACTION = 0.02;

export interface FieldOfView {
  /** 1 = inside the visible field (margin removed), 0 = the scope's surround. All 1 when none was found. */
  mask: Uint8Array;
  /** True when a dark surround was found (and the mask leaves it out). */
  detected: boolean;
  /** Pixels inside the field, % of the image (100 when none was found). */
  visiblePercent: number;
}

/** The q-quantile (0..1) of grey levels, from a 256-bin histogram (values are clamped to 0..255). */
export function greyQuantile(grey: ArrayLike<number>, q: number): number {
  const hist = new Uint32Array(256);
  for (let i = 0; i < grey.length; i++) hist[Math.max(0, Math.min(255, Math.round(grey[i])))]++;
  const want = q * grey.length;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v];
    if (seen >= want && seen > 0) return v;
  }
  return 255;
}

/** Pixels where `on` is set that a 4-connected flood fill from the image's edge reaches through `on`. */
export function connectedToEdge(on: Uint8Array, width: number, height: number): Uint8Array {
  const reached = new Uint8Array(width * height);
  const stack: number[] = [];
  const seed = (i: number) => {
    if (on[i] && !reached[i]) {
      reached[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % width;
    if (x > 0) seed(i - 1);
    if (x < width - 1) seed(i + 1);
    if (i >= width) seed(i - width);
    if (i < (height - 1) * width) seed(i + width);
  }
  return reached;
}

type Point = readonly [number, number];
const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Convex hull (Andrew's monotone chain), counter-clockwise in image coordinates, no collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const half = (list: Point[]) => {
    const out: Point[] = [];
    for (const q of list) {
      while (out.length >= 2 && cross(out[out.length - 2], out[out.length - 1], q) <= 0) out.pop();
      out.push(q);
    }
    out.pop();
    return out;
  };
  return [...half(p), ...half([...p].reverse())];
}

/**
 * The pixels inside the convex hull of `set`'s pixels (their centres, and the hull's edges count as
 * inside). Each row's run is where the row's centre line crosses the hull, so it is exact per row.
 */
export function convexHullMask(set: Uint8Array, width: number, height: number): Uint8Array {
  const points: Point[] = [];
  for (let y = 0; y < height; y++) {
    let lo = -1;
    let hi = -1;
    for (let x = 0; x < width; x++)
      if (set[y * width + x]) {
        if (lo < 0) lo = x;
        hi = x;
      }
    if (lo >= 0) points.push([lo, y], [hi, y]);
  }
  const out = new Uint8Array(width * height);
  const hull = convexHull(points);
  if (hull.length === 0) return out;
  const eps = 1e-9;
  for (let y = 0; y < height; y++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < hull.length; k++) {
      const [x0, y0] = hull[k];
      const [x1, y1] = hull[(k + 1) % hull.length];
      if (y < Math.min(y0, y1) - eps || y > Math.max(y0, y1) + eps) continue;
      if (y0 === y1) {
        lo = Math.min(lo, x0, x1);
        hi = Math.max(hi, x0, x1);
      } else {
        const x = x0 + ((y - y0) * (x1 - x0)) / (y1 - y0);
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    if (hull.length === 1 && hull[0][1] === y) lo = hi = hull[0][0];
    for (let x = Math.max(0, Math.ceil(lo - eps)); x <= Math.min(width - 1, Math.floor(hi + eps)); x++)
      out[y * width + x] = 1;
  }
  return out;
}

/**
 * Longest side the field is found at: a larger image is averaged down by a whole factor first and the
 * field scaled back (nearest). The window is a smooth convex shape and the margin 2 % of the image, so
 * nothing is lost, and a 50-megapixel photograph costs what a thumbnail does.
 */
export const FIELD_MAX_SIDE = 512;

/** `grey` averaged over factor x factor blocks (the last row and column of blocks may be partial). */
export function shrinkGrey(grey: ArrayLike<number>, width: number, height: number, factor: number) {
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const sum = new Float64Array(w * h);
  const count = new Uint32Array(w * h);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / factor) * w;
    for (let x = 0; x < width; x++) {
      const k = row + Math.floor(x / factor);
      sum[k] += grey[y * width + x];
      count[k]++;
    }
  }
  return { grey: Float32Array.from(sum, (v, k) => v / count[k]), width: w, height: h };
}

/** Finds the scope's visible field in a grey image (see the module comment for the method). */
export function detectFieldOfView(grey: ArrayLike<number>, width: number, height: number): FieldOfView {
  const n = width * height;
  if (grey.length !== n) throw new Error(`expected ${n} pixels, got ${grey.length}`);
  const factor = Math.ceil(Math.max(width, height) / FIELD_MAX_SIDE);
  if (factor <= 1) return fieldAtFullSize(grey, width, height);
  const small = shrinkGrey(grey, width, height, factor);
  const f = fieldAtFullSize(small.grey, small.width, small.height);
  if (!f.detected) return { mask: new Uint8Array(n).fill(1), detected: false, visiblePercent: 100 };
  const mask = new Uint8Array(n);
  let inside = 0;
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / factor) * small.width;
    for (let x = 0; x < width; x++)
      if (f.mask[row + Math.floor(x / factor)]) {
        mask[y * width + x] = 1;
        inside++;
      }
  }
  return { mask, detected: true, visiblePercent: (100 * inside) / n };
}

function fieldAtFullSize(grey: ArrayLike<number>, width: number, height: number): FieldOfView {
  const n = width * height;
  const all = (): FieldOfView => ({ mask: new Uint8Array(n).fill(1), detected: false, visiblePercent: 100 });
  const cut = DARK_FRACTION * greyQuantile(grey, 0.95);
  const dark = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (grey[i] < cut) dark[i] = 1;
  const surround = connectedToEdge(dark, width, height);
  const rest = new Uint8Array(n);
  for (let i = 0; i < n; i++) rest[i] = surround[i] ? 0 : 1;
  const hull = convexHullMask(rest, width, height);
  let left = 0;
  for (let i = 0; i < n; i++) if (!hull[i]) left++;
  if (left < MIN_SURROUND_FRACTION * n) return all();
  const margin = 2 * Math.round((MARGIN_FRACTION * Math.min(width, height)) / 2) + 1;
  const eroded = erodeSquare(hull, width, height, margin);
  // The frame's own edge is not the scope's: pixels cut only by the clipped window at the image's
  // border stay in (erodeSquare ignores what lies outside the image).
  const mask = new Uint8Array(n);
  let inside = 0;
  for (let i = 0; i < n; i++)
    if (eroded[i] > 0) {
      mask[i] = 1;
      inside++;
    }
  return { mask, detected: true, visiblePercent: (100 * inside) / n };
}
