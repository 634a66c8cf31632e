/**
 * PNG renderings of inference results with sharp: Grad-CAM heatmaps and overlays, segmentation
 * masks, probability maps and mask overlays. Pixel arithmetic is done here on raw RGB bytes, so
 * what a PNG holds is exactly what the tests compute; sharp only decodes and encodes.
 */
import sharp from './sharp';
import { resizeBilinear } from './cam-map';
import { colourise } from './colormap';
import { badInput } from '../infra/errors';
import { borderPixels } from './mask-metrics';

/** Interleaved 8-bit RGB pixels, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export type Rgb = readonly [number, number, number];

export interface SegmentationOverlayStyle {
  /** Tint of the lesion, blended at the overlay's opacity (default red). */
  fill?: Rgb;
  /** Colour of the outline, drawn opaque so the border shows at any opacity (default green). */
  contour?: Rgb;
  /** Outline width in pixels, inside the mask: 1 or 2 (default 2). */
  contourWidth?: 1 | 2;
}

/** Decodes an uploaded image (EXIF orientation applied, alpha dropped, sRGB) to RGB bytes. */
export async function decodeRgb(bytes: Buffer | string): Promise<RgbImage> {
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after decode, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/**
 * Decodes a mask image (e.g. a ground-truth PNG) to 0/1 at width x height: grey >= 128 is lesion.
 * Nearest-neighbour resizing keeps it binary when its size differs from the image's.
 */
export async function decodeMask(bytes: Buffer, width: number, height: number): Promise<Uint8Array> {
  const grey = await sharp(bytes, { failOn: 'error' })
    .rotate()
    .flatten()
    .greyscale()
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return Uint8Array.from(grey, (v) => (v >= 128 ? 1 : 0));
}

/** Checks a client's overlay opacity (0 = original only, 1 = overlay only). */
export function validateOpacity(opacity: number, field = 'opacity'): number {
  if (!Number.isFinite(opacity) || opacity < 0 || opacity > 1)
    throw badInput(field, `${field} must be between 0 and 1, got ${opacity}`);
  return opacity;
}

function encodePng(data: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  if (data.length !== width * height * channels)
    throw new Error(
      `expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`,
    );
  const img = sharp(data, { raw: { width, height, channels } });
  // without the explicit colourspace sharp would write a one-channel image as RGB
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

/** (1 - a) * base + a * over, per byte, rounded. */
function mix(base: number, over: number, a: number): number {
  return Math.round((1 - a) * base + a * over);
}

/** Colour-mapped heatmap of a [0, 1] map (see colormap.ts). */
export function heatmapPng(map: ArrayLike<number>, width: number, height: number): Promise<Buffer> {
  return encodePng(colourise(map), width, height, 3);
}

/**
 * The heatmap blended over the image at `opacity`. A map of another size (e.g. the model's
 * input size) is resized bilinearly to the image first, so the overlay keeps the image's resolution.
 */
export function heatmapOverlayPng(
  image: RgbImage,
  map: ArrayLike<number>,
  mapWidth: number,
  mapHeight: number,
  opacity = 0.5,
): Promise<Buffer> {
  const a = validateOpacity(opacity);
  const { width, height } = image;
  const fitted =
    mapWidth === width && mapHeight === height ? map : resizeBilinear(map, mapWidth, mapHeight, width, height);
  const colours = colourise(fitted);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = mix(image.data[i], colours[i], a);
  return encodePng(out, width, height, 3);
}

/**
 * The mask's outline, inside the lesion: its border pixels (those with an edge neighbour outside
 * the mask or the image), plus the next ring in for width 2.
 */
export function maskContour(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  contourWidth: 1 | 2 = 2,
): Uint8Array {
  const ring = borderPixels(mask, width, height, 4);
  if (contourWidth === 1) return ring;
  // Plain loops, not Uint8Array.from with a callback: at 50 megapixels the callbacks cost seconds.
  const inner = new Uint8Array(ring.length);
  for (let i = 0; i < inner.length; i++) inner[i] = mask[i] && !ring[i] ? 1 : 0;
  const second = borderPixels(inner, width, height, 4);
  for (let i = 0; i < ring.length; i++) ring[i] |= second[i];
  return ring;
}

/** The lesion tinted on the image at `opacity`, with its outline drawn opaque on top. */
export function segmentationOverlayPng(
  image: RgbImage,
  mask: ArrayLike<number>,
  opacity = 0.5,
  style: SegmentationOverlayStyle = {},
): Promise<Buffer> {
  const a = validateOpacity(opacity);
  const { width, height } = image;
  if (mask.length !== width * height) throw new Error(`mask has ${mask.length} pixels, the image ${width * height}`);
  const fill = style.fill ?? [255, 0, 0];
  const line = style.contour ?? [0, 255, 0];
  const contour = maskContour(mask, width, height, style.contourWidth ?? 2);
  const out = image.data.slice();
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = contour[p] ? line[c] : mix(image.data[p * 3 + c], fill[c], a);
  }
  return encodePng(out, width, height, 3);
}

/** The binary mask as a grey PNG: 255 lesion, 0 background. */
export function maskPng(mask: ArrayLike<number>, width: number, height: number): Promise<Buffer> {
  const grey = new Uint8Array(mask.length);
  for (let i = 0; i < grey.length; i++) grey[i] = mask[i] ? 255 : 0;
  return encodePng(grey, width, height, 1);
}

/** A probability map as a grey PNG: round(p * 255), p clamped to [0, 1]. */
export function probabilityPng(map: ArrayLike<number>, width: number, height: number): Promise<Buffer> {
  const grey = new Uint8Array(map.length);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(Math.min(1, Math.max(0, map[i] || 0)) * 255);
  return encodePng(grey, width, height, 1);
}
