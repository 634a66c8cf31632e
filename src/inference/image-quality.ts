/**
 * Does an input look like usable dermoscopy? Simple, explainable checks over RGB pixels at a fixed
 * working size: sharpness (blur), exposure (clipped dark / bright pixels) and skin/lesion-colour
 * coverage. Pure functions: no decoding here (the job runner hands in the pixels it already decoded
 * for the classifier, which for the shipped models are already QUALITY_WORKING_SIZE square).
 * Thresholds were chosen on the 320 ISIC UDA-1 images and on non-dermoscopic inputs: docs/inference.md,
 * "Image quality and abstention".
 */

/** Side of the square the checks run at: sharpness depends on resolution, so it is always measured at this one. */
export const QUALITY_WORKING_SIZE = 128;
/** A grey level at or below this is clipped dark (the dermoscope's black surround, or underexposure). */
export const DARK_LEVEL = 16;
/** A grey level at or above this is clipped bright (glare, overexposure). */
export const BRIGHT_LEVEL = 240;

export interface ImageQuality {
  /** 0..1: the lowest of the component scores, each 0.5 exactly at its threshold; below 0.5 means a quality reason. */
  score: number;
  /** Variance of the 4-neighbour Laplacian of the grey image (0..255 levels) at the working size: low is blurred or flat. */
  sharpness: number;
  /** Fraction of pixels with grey <= DARK_LEVEL. */
  darkFraction: number;
  /** Fraction of pixels with grey >= BRIGHT_LEVEL. */
  brightFraction: number;
  /** Mean grey level, 0..255. */
  meanBrightness: number;
  /** Fraction of the pixels that are not clipped dark whose colour is skin or lesion-like (isSkinColour); 0 when all are dark. */
  skinFraction: number;
}

/** The limits a usable image keeps within; a limit of 0 (1 for the max fractions) turns its check off. */
export interface QualityThresholds {
  /** Below: BLURRED (or flat). */
  minSharpness: number;
  /** Above: NOT_DERMOSCOPY_LIKE (noise, text, screenshots, patterns: edge energy no skin surface has at this size). */
  maxSharpness: number;
  /** Mean grey below: UNDER_EXPOSED. */
  minBrightness: number;
  /** Above: UNDER_EXPOSED (mostly black). */
  maxDarkFraction: number;
  /** Above: OVER_EXPOSED. */
  maxBrightFraction: number;
  /** Below: NOT_DERMOSCOPY_LIKE. */
  minSkinFraction: number;
}

export type QualityReason = 'BLURRED' | 'UNDER_EXPOSED' | 'OVER_EXPOSED' | 'NOT_DERMOSCOPY_LIKE';

/** ITU-R BT.601 luma, the grey the checks use (as sharp's greyscale and JPEG's Y). */
const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/**
 * Chai & Ngan (1999, "Face segmentation using skin-color map in videophone applications"): skin is
 * 77 <= Cb <= 127 and 133 <= Cr <= 173 in YCbCr (BT.601, full range), whatever the luma, so the dark
 * brown of a pigmented lesion passes as well as the skin around it; grey (Cb = Cr = 128), blue and
 * green do not.
 */
export function isSkinColour(r: number, g: number, b: number): boolean {
  const cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
  const cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  return cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173;
}

/**
 * Interleaved RGB at width x height to QUALITY_WORKING_SIZE square by area averaging (each output
 * pixel the mean of the source pixels it covers, fractional edges weighted), the same squash as the
 * classifiers' 'fill' resize. Returned as is when already that size.
 */
export function toWorkingSize(rgb: Uint8Array, width: number, height: number, size = QUALITY_WORKING_SIZE): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} bytes, got ${rgb.length}`);
  if (width === size && height === size) return rgb;
  const out = new Uint8Array(size * size * 3);
  const sx = width / size;
  const sy = height / size;
  const acc = [0, 0, 0];
  for (let oy = 0; oy < size; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < size; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      acc[0] = acc[1] = acc[2] = 0;
      let wsum = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          const i = (y * width + x) * 3;
          acc[0] += w * rgb[i];
          acc[1] += w * rgb[i + 1];
          acc[2] += w * rgb[i + 2];
          wsum += w;
        }
      }
      const o = (oy * size + ox) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(acc[c] / wsum);
    }
  }
  return out;
}

/** Variance of the Laplacian (0 1 0 / 1 -4 1 / 0 1 0) over the interior pixels of a grey image. */
export function laplacianVariance(grey: Float32Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v = grey[i - width] + grey[i + width] + grey[i - 1] + grey[i + 1] - 4 * grey[i];
      sum += v;
      sumSq += v * v;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return Math.max(0, sumSq / n - mean * mean);
}

/** The figures of `measureQuality`, before they are scored against thresholds. */
export type QualityFigures = Omit<ImageQuality, 'score'>;

/** Sharpness, exposure and skin coverage of interleaved RGB pixels (any size: brought to the working size first). */
export function measureQuality(rgb: Uint8Array, width: number, height: number): QualityFigures {
  const px = toWorkingSize(rgb, width, height);
  const n = QUALITY_WORKING_SIZE * QUALITY_WORKING_SIZE;
  const grey = new Float32Array(n);
  let dark = 0;
  let bright = 0;
  let total = 0;
  let skin = 0;
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    const g = luma(px[i], px[i + 1], px[i + 2]);
    grey[p] = g;
    total += g;
    if (g <= DARK_LEVEL) dark++;
    else if (isSkinColour(px[i], px[i + 1], px[i + 2])) skin++;
    if (g >= BRIGHT_LEVEL) bright++;
  }
  return {
    sharpness: laplacianVariance(grey, QUALITY_WORKING_SIZE, QUALITY_WORKING_SIZE),
    darkFraction: dark / n,
    brightFraction: bright / n,
    meanBrightness: total / n,
    skinFraction: dark === n ? 0 : skin / (n - dark),
  };
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
/** 0.5 at `limit`, 1 at twice it and above (a "at least" check); 1 when the check is off (limit 0). */
const atLeast = (v: number, limit: number) => (limit <= 0 ? 1 : clamp01(v / (2 * limit)));
/** 0.5 at `limit`, 1 at 0, 0 at twice it (an "at most" check); 1 when the check is off (limit 1). */
const atMost = (v: number, limit: number) => (limit >= 1 ? 1 : clamp01(1 - v / (2 * limit)));

/** The figures scored against `t`: the quality score and the reasons (each once, in a fixed order). */
export function scoreQuality(
  f: QualityFigures,
  t: QualityThresholds,
): { quality: ImageQuality; reasons: QualityReason[] } {
  const reasons = new Set<QualityReason>();
  if (t.minSharpness > 0 && f.sharpness < t.minSharpness) reasons.add('BLURRED');
  if (t.minBrightness > 0 && f.meanBrightness < t.minBrightness) reasons.add('UNDER_EXPOSED');
  if (t.maxDarkFraction < 1 && f.darkFraction > t.maxDarkFraction) reasons.add('UNDER_EXPOSED');
  if (t.maxBrightFraction < 1 && f.brightFraction > t.maxBrightFraction) reasons.add('OVER_EXPOSED');
  if (t.minSkinFraction > 0 && f.skinFraction < t.minSkinFraction) reasons.add('NOT_DERMOSCOPY_LIKE');
  if (t.maxSharpness > 0 && f.sharpness > t.maxSharpness) reasons.add('NOT_DERMOSCOPY_LIKE');
  const score = Math.min(
    atLeast(f.sharpness, t.minSharpness),
    t.maxSharpness > 0 ? clamp01(1 - f.sharpness / (2 * t.maxSharpness)) : 1,
    atLeast(f.meanBrightness, t.minBrightness),
    atMost(f.darkFraction, t.maxDarkFraction),
    atMost(f.brightFraction, t.maxBrightFraction),
    atLeast(f.skinFraction, t.minSkinFraction),
  );
  return { quality: { score, ...f }, reasons: [...reasons] };
}

/** measureQuality then scoreQuality. */
export function assessQuality(
  rgb: Uint8Array,
  width: number,
  height: number,
  t: QualityThresholds,
): { quality: ImageQuality; reasons: QualityReason[] } {
  return scoreQuality(measureQuality(rgb, width, height), t);
}
