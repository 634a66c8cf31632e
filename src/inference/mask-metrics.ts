/**
 * Lesion measurements on a binary mask at the image's own resolution.
 * Masks are row-major Uint8Array, width*height long, any non-zero value = lesion.
 */
import { labelComponents, largestLabel, maskOfLabels } from './mask-components';

export type Neighbourhood = 4 | 8;

export interface MaskMetrics {
  /** Lesion pixels, every piece of the mask. */
  areaPixels: number;
  /** areaPixels as a percentage (0..100) of the whole image (the seed's definition). */
  areaPercent: number;
  /** scikit-image `measure.perimeter` estimate of every piece together, in pixel lengths. */
  perimeterPixels: number;
  /**
   * The lesion's circularity: 4*pi*A/P^2 of the largest 8-connected component alone, clamped to
   * [0, 1]; 0 when its perimeter is 0 (empty mask or a lone pixel). What severity grades.
   */
  circularity: number;
  /** 4*pi*A/P^2 of every piece together (areaPixels, perimeterPixels): fragments pull it down. */
  allPiecesCircularity: number;
  /** 8-connected pieces of the mask (0 for an empty mask). */
  componentCount: number;
  /** Mean and population std (ddof 0) of grey levels (0..255) inside the lesion; 0 for an empty mask. */
  meanIntensity: number;
  stdIntensity: number;
}

function checkSize(name: string, data: ArrayLike<number>, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${name}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height) throw new Error(`${name}: expected ${width * height} pixels, got ${data.length}`);
}

/** Number of lesion pixels. */
export function maskArea(mask: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

/**
 * Lesion pixels that binary erosion removes: skimage's `image - binary_erosion(image, strel,
 * border_value=0)`. A pixel survives erosion when every pixel of the structuring element around
 * it (the 4 edge neighbours for neighbourhood 4, all 8 for 8) is lesion; outside the image counts
 * as background, so lesion pixels on the image edge are always border pixels.
 */
export function borderPixels(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  neighbourhood: Neighbourhood = 4,
): Uint8Array {
  checkSize('mask', mask, width, height);
  const on = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  const border = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      let interior = on(x - 1, y) && on(x + 1, y) && on(x, y - 1) && on(x, y + 1);
      if (interior && neighbourhood === 8)
        interior = on(x - 1, y - 1) && on(x + 1, y - 1) && on(x - 1, y + 1) && on(x + 1, y + 1);
      if (!interior) border[y * width + x] = 1;
    }
  }
  return border;
}

/**
 * Weight of each 3x3 code in skimage's estimator (Benkrid & Crookes): the border image is
 * convolved with [[10,2,10],[2,1,2],[10,2,10]] (zero outside), so a code says how many edge (2)
 * and corner (10) neighbours a border pixel has; straight runs count 1, diagonal steps sqrt(2),
 * mixed corners (1+sqrt(2))/2, every other code 0.
 */
export const PERIMETER_WEIGHTS: readonly number[] = (() => {
  const w = new Array<number>(50).fill(0);
  for (const i of [5, 7, 15, 17, 25, 27]) w[i] = 1;
  for (const i of [21, 33]) w[i] = Math.SQRT2;
  for (const i of [13, 23]) w[i] = (1 + Math.SQRT2) / 2;
  return w;
})();

/**
 * Total perimeter exactly as scikit-image's `measure.perimeter(image, neighbourhood)`.
 * Only border pixels (centre weight 1, so odd codes) can have non-zero weight, so the
 * convolution is evaluated there alone; the histogram-and-dot of skimage becomes a running sum.
 */
export function perimeter(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  neighbourhood: Neighbourhood = 4,
): number {
  const border = borderPixels(mask, width, height, neighbourhood);
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < width && y < height ? border[y * width + x] : 0);
  // Counting codes first and summing weights per code afterwards keeps the float sum in skimage's order.
  const histogram = new Array<number>(50).fill(0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!border[y * width + x]) continue;
      const edges = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1);
      const corners = at(x - 1, y - 1) + at(x + 1, y - 1) + at(x - 1, y + 1) + at(x + 1, y + 1);
      histogram[1 + 2 * edges + 10 * corners]++;
    }
  }
  let total = 0;
  for (let code = 0; code < 50; code++) total += histogram[code] * PERIMETER_WEIGHTS[code];
  return total;
}

/** 4*pi*A/P^2, clamped to [0, 1] (digital perimeters can make a disk exceed 1); 0 when P is 0. */
export function circularity(area: number, perimeterLength: number): number {
  if (!(perimeterLength > 0)) return 0;
  return Math.min(1, Math.max(0, (4 * Math.PI * area) / (perimeterLength * perimeterLength)));
}

/** Grey levels of interleaved RGB(A) bytes with skimage's `rgb2gray` weights (Rec. 709 luma). */
export function greyFromRgb(pixels: ArrayLike<number>, channels: 3 | 4 = 3): Float32Array {
  const n = Math.floor(pixels.length / channels);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    out[i] = 0.2125 * pixels[o] + 0.7154 * pixels[o + 1] + 0.0721 * pixels[o + 2];
  }
  return out;
}

/** Mean and population standard deviation of `grey` where the mask is set (two-pass for accuracy). */
export function intensityInside(mask: ArrayLike<number>, grey: ArrayLike<number>): { mean: number; std: number } {
  if (mask.length !== grey.length) throw new Error(`mask has ${mask.length} pixels but the grey image ${grey.length}`);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < mask.length; i++)
    if (mask[i]) {
      n++;
      sum += grey[i];
    }
  if (n === 0) return { mean: 0, std: 0 };
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) sq += (grey[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n) };
}

/**
 * Area, perimeter, circularity (of the lesion's main component and of all pieces) and intensity of one
 * mask (`grey` is the image's grey levels, same size).
 */
export function maskMetrics(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  grey: ArrayLike<number>,
  neighbourhood: Neighbourhood = 4,
): MaskMetrics {
  checkSize('mask', mask, width, height);
  checkSize('grey image', grey, width, height);
  const areaPixels = maskArea(mask);
  const perimeterPixels = areaPixels === 0 ? 0 : perimeter(mask, width, height, neighbourhood);
  const { mean, std } = intensityInside(mask, grey);
  const pieces = labelComponents(mask, width, height);
  const main = largestLabel(pieces);
  // With one piece the lesion is the whole mask: no second perimeter pass.
  const mainCircularity =
    pieces.count <= 1
      ? circularity(areaPixels, perimeterPixels)
      : circularity(
          pieces.areas[main - 1],
          perimeter(maskOfLabels(pieces, new Set([main])), width, height, neighbourhood),
        );
  return {
    areaPixels,
    areaPercent: (100 * areaPixels) / (width * height),
    perimeterPixels,
    circularity: mainCircularity,
    allPiecesCircularity: circularity(areaPixels, perimeterPixels),
    componentCount: pieces.count,
    meanIntensity: mean,
    stdIntensity: std,
  };
}

/**
 * Overlap with a ground-truth mask of the same size. Two empty masks agree perfectly (1, 1):
 * there is nothing either one missed.
 */
export function overlap(mask: ArrayLike<number>, truth: ArrayLike<number>): { dice: number; jaccard: number } {
  if (mask.length !== truth.length)
    throw new Error(`mask has ${mask.length} pixels but the ground truth ${truth.length}`);
  let a = 0;
  let b = 0;
  let both = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i] !== 0;
    const t = truth[i] !== 0;
    if (m) a++;
    if (t) b++;
    if (m && t) both++;
  }
  if (a + b === 0) return { dice: 1, jaccard: 1 };
  return { dice: (2 * both) / (a + b), jaccard: both / (a + b - both) };
}
