import path from 'node:path';
import sharp from 'sharp';
import { colourise } from './colormap';
import { AppError } from '../infra/errors';
import { borderPixels } from './mask-metrics';
import {
  decodeMask,
  decodeRgb,
  heatmapOverlayPng,
  heatmapPng,
  maskContour,
  maskPng,
  probabilityPng,
  type RgbImage,
  segmentationOverlayPng,
  validateOpacity,
} from './render';

const FIXTURES = path.join(__dirname, '../../test/fixtures');

/** Decodes a PNG to its own channels (sharp would expand a grey PNG to RGB on raw output). */
async function pixels(png: Buffer): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const meta = await sharp(png).metadata();
  const decoder = meta.channels === 1 ? sharp(png).extractChannel(0) : sharp(png);
  const { data, info } = await decoder.raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data),
    width: info.width,
    height: info.height,
    channels: meta.channels ?? info.channels,
  };
}

/** A real photograph (skimage's coins) as RGB. */
async function coins(): Promise<RgbImage> {
  return decodeRgb(await sharp(path.join(FIXTURES, 'coins/coins.png')).toBuffer());
}

/** A horizontal ramp 0..1 the size of the image. */
function ramp(width: number, height: number): Float32Array {
  return Float32Array.from({ length: width * height }, (_, i) => (i % width) / (width - 1));
}

describe('heatmaps', () => {
  it('encodes the colour map of the values', async () => {
    const map = ramp(16, 4);
    const png = await pixels(await heatmapPng(map, 16, 4));
    expect([png.width, png.height, png.channels]).toEqual([16, 4, 3]);
    expect(Buffer.from(png.data)).toEqual(colourise(map));
  });

  it('overlay at opacity 0 is the original and at opacity 1 the colour map', async () => {
    const img = await coins();
    const map = ramp(img.width, img.height);
    const zero = await pixels(await heatmapOverlayPng(img, map, img.width, img.height, 0));
    expect(Buffer.from(zero.data)).toEqual(Buffer.from(img.data));
    const one = await pixels(await heatmapOverlayPng(img, map, img.width, img.height, 1));
    expect(Buffer.from(one.data)).toEqual(colourise(map));
  });

  it('blends linearly at 0.5 and resizes a smaller map to the image', async () => {
    const img: RgbImage = { data: new Uint8Array(4 * 2 * 3).fill(100), width: 4, height: 2 };
    const out = await pixels(await heatmapOverlayPng(img, [1], 1, 1, 0.5)); // a 1x1 map of 1 -> every pixel TURBO[255] = (122, 4, 2)
    expect([out.width, out.height]).toEqual([4, 2]);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([111, 52, 51]);
  });

  it('refuses an opacity outside 0..1 with the field named', () => {
    for (const bad of [-0.1, 1.1, Number.NaN]) {
      expect(() => validateOpacity(bad)).toThrow(AppError);
    }
    try {
      validateOpacity(2, 'gradCam.overlayUrl.opacity');
    } catch (e) {
      expect((e as AppError).extensions.field).toBe('gradCam.overlayUrl.opacity');
    }
  });
});

describe('segmentation renderings', () => {
  // an 8x6 image with a 4x3 rectangle lesion at x 2..5, y 1..3
  const width = 8;
  const height = 6;
  const mask = Uint8Array.from({ length: width * height }, (_, i) => {
    const x = i % width;
    const y = Math.floor(i / width);
    return x >= 2 && x <= 5 && y >= 1 && y <= 3 ? 1 : 0;
  });
  const image: RgbImage = {
    data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7) % 256),
    width,
    height,
  };

  it('mask PNG is 0/255 grey', async () => {
    const png = await pixels(await maskPng(mask, width, height));
    expect(png.channels).toBe(1);
    expect(Array.from(png.data)).toEqual(Array.from(mask, (v) => v * 255));
  });

  it('probability PNG is round(p * 255) clamped', async () => {
    const png = await pixels(await probabilityPng([0, 0.5, 1, 1.5, -1, 0.2], 3, 2));
    expect(Array.from(png.data)).toEqual([0, 128, 255, 255, 0, 51]);
  });

  it('contour pixels sit on the mask border, 1 or 2 px wide', () => {
    const one = maskContour(mask, width, height, 1);
    expect(Array.from(one)).toEqual(Array.from(borderPixels(mask, width, height, 4)));
    // the 4x3 rectangle's ring is everything but its 2x1 middle
    expect(one.reduce((a, b) => a + b, 0)).toBe(12 - 2);
    const two = maskContour(mask, width, height, 2);
    expect(two.reduce((a, b) => a + b, 0)).toBe(12); // the middle is the second ring
    two.forEach((v, i) => v && expect(mask[i]).toBe(1));
  });

  it('tints the lesion at the opacity, draws the contour opaque and leaves the rest', async () => {
    const style = { fill: [255, 0, 0] as const, contour: [0, 255, 0] as const, contourWidth: 1 as const };
    const out = await pixels(await segmentationOverlayPng(image, mask, 0.25, style));
    const contour = maskContour(mask, width, height, 1);
    for (let p = 0; p < width * height; p++) {
      const got = Array.from(out.data.subarray(p * 3, p * 3 + 3));
      const orig = Array.from(image.data.subarray(p * 3, p * 3 + 3));
      if (!mask[p]) expect(got).toEqual(orig);
      else if (contour[p]) expect(got).toEqual([0, 255, 0]);
      else expect(got).toEqual(orig.map((v, c) => Math.round(0.75 * v + 0.25 * style.fill[c])));
    }
  });

  it('decodes a ground-truth mask PNG back to 0/1, resizing by nearest neighbour', async () => {
    const png = await maskPng(mask, width, height);
    expect(Array.from(await decodeMask(png, width, height))).toEqual(Array.from(mask));
    const doubled = await decodeMask(png, width * 2, height * 2);
    expect(doubled[2 * 2 * (width * 2) + 2 * 2]).toBe(1); // (x 4, y 4) <- (2, 2)
    expect(doubled.reduce((a, b) => a + b, 0)).toBe(12 * 4);
  });
});
