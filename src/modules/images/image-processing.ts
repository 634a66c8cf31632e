import sharp from '../../inference/sharp';
import { imageSize } from 'image-size';
import { AppError, badInput } from '../../infra/errors';
import { ImageFormat } from '../../entities/image';

/** Derived copies the server makes of every image. ORIGINAL is the uploaded file, byte for byte. */
export enum ImageVariant {
  ORIGINAL = 'ORIGINAL',
  NORMALIZED = 'NORMALIZED',
  THUMBNAIL = 'THUMBNAIL',
}

/** Longest side of the normalised copy and of the thumbnail (never enlarged). */
export const NORMALIZED_MAX_SIDE = 2048;
export const THUMBNAIL_MAX_SIDE = 256;

const FORMATS: Record<string, { format: ImageFormat; mimeType: string }> = {
  jpeg: { format: ImageFormat.JPEG, mimeType: 'image/jpeg' },
  png: { format: ImageFormat.PNG, mimeType: 'image/png' },
  webp: { format: ImageFormat.WEBP, mimeType: 'image/webp' },
  tiff: { format: ImageFormat.TIFF, mimeType: 'image/tiff' },
};

export interface ImageInfo {
  format: ImageFormat;
  mimeType: string;
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
  hasAlpha: boolean;
}

export interface DerivedCopies {
  NORMALIZED: { data: Buffer; mimeType: string };
  THUMBNAIL: { data: Buffer; mimeType: string };
}

/** What the probe reads of an image's header. */
type Header = Pick<sharp.Metadata, 'format' | 'width' | 'height' | 'orientation' | 'hasAlpha'>;

/**
 * Reads the header of an image (its bytes, or the file at a path) and decides its type from the bytes (never the name).
 * UNSUPPORTED_MEDIA_TYPE for anything but JPEG/PNG/WebP/TIFF; PAYLOAD_TOO_LARGE past `maxPixels`
 * (checked from the header, before any pixel is decoded: decompression bombs stop here; the decodes that follow
 * are limited to `maxPixels` too).
 */
export async function probeImage(source: Buffer | string, maxPixels: number, field = 'files'): Promise<ImageInfo> {
  let meta: Header;
  try {
    meta =
      (Buffer.isBuffer(source) ? jpegHeader(source) : null) ??
      (await sharp(source, { limitInputPixels: false }).metadata());
  } catch {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Not an image this server accepts (JPEG, PNG, WebP or TIFF)', {
      field,
    });
  }
  const known = meta.format ? FORMATS[meta.format] : undefined;
  if (!known) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Image format ${meta.format ?? 'unknown'} is not accepted (JPEG, PNG, WebP or TIFF)`,
      { field, format: meta.format ?? null },
    );
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1) throw badInput(field, 'Image has no pixels');
  if (width * height > maxPixels) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `Image is ${width}x${height} pixels; at most ${maxPixels} pixels are accepted`,
      { field, width, height, maxPixels },
    );
  }
  return { ...known, width, height, orientation: meta.orientation ?? 1, hasAlpha: !!meta.hasAlpha };
}

/**
 * A JPEG's header as libvips reads it (the frame's size, the EXIF orientation), read in JavaScript by image-size:
 * about 10 us against sharp's 0.3 ms of CPU and a trip through the thread pool, on every upload. Null for any
 * other type and for a header it cannot read, which sharp then reads (and refuses or accepts) as before.
 */
export function jpegHeader(bytes: Buffer): Header | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return null;
  try {
    const { type, width, height, orientation = 1 } = imageSize(bytes);
    if (type !== 'jpg' || !(orientation >= 1 && orientation <= 8)) return null;
    return { format: 'jpeg', width, height, orientation, hasAlpha: false };
  } catch {
    return null;
  }
}

/** The two derived pipelines over one decode of `path`: orientation applied, sRGB, metadata dropped. */
function derivedPipelines(
  path: string,
  info: Pick<ImageInfo, 'hasAlpha'>,
  maxPixels: number,
): Record<'NORMALIZED' | 'THUMBNAIL', sharp.Sharp> {
  const base = sharp(path, { failOn: 'truncated', limitInputPixels: maxPixels }).rotate().toColourspace('srgb');
  const normalized = base
    .clone()
    .resize(NORMALIZED_MAX_SIDE, NORMALIZED_MAX_SIDE, { fit: 'inside', withoutEnlargement: true });
  const thumb = base
    .clone()
    .resize(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' });
  return {
    NORMALIZED: info.hasAlpha ? normalized.png({ compressionLevel: 6 }) : normalized.jpeg({ quality: 90 }),
    THUMBNAIL: thumb.jpeg({ quality: 80 }),
  };
}

/** BAD_USER_INPUT for a file that failed to decode, naming `field`. */
export function decodeError(err: unknown, field: string): AppError {
  return badInput(
    field,
    `The image could not be decoded (truncated or corrupt): ${(err as Error).message.split('\n')[0].slice(0, 200)}`,
  );
}

/**
 * Decodes the whole image once (a truncated or corrupt file fails here with BAD_USER_INPUT) and makes
 * the derived copies: EXIF orientation applied, sRGB, no metadata kept (EXIF may hold location and
 * device data). Normalised is JPEG, or PNG when the image has transparency; the thumbnail is JPEG.
 */
export async function makeDerivedCopies(
  path: string,
  info: Pick<ImageInfo, 'hasAlpha'>,
  maxPixels: number,
  field = 'files',
): Promise<DerivedCopies> {
  const p = derivedPipelines(path, info, maxPixels);
  try {
    const [n, t] = await Promise.all([p.NORMALIZED.toBuffer(), p.THUMBNAIL.toBuffer()]);
    return {
      NORMALIZED: { data: n, mimeType: info.hasAlpha ? 'image/png' : 'image/jpeg' },
      THUMBNAIL: { data: t, mimeType: 'image/jpeg' },
    };
  } catch (err) {
    throw decodeError(err, field);
  }
}

/**
 * Decodes the whole image once, so that a truncated or corrupt file fails at upload with BAD_USER_INPUT.
 * Nothing is kept: the derived copies are made when first asked for (imageFileRoute), which keeps
 * about 8 ms of encoding per image out of every upload. Large images decode at a reduced scale where
 * the format allows it (JPEG, WebP), which still reads every byte of the file, so memory stays bounded.
 */
export async function verifyDecodes(source: Buffer | string, maxPixels: number, field = 'files'): Promise<void> {
  try {
    await sharp(source, { failOn: 'truncated', limitInputPixels: maxPixels })
      .resize({ width: 512, height: 512, fit: 'inside', withoutEnlargement: true, kernel: 'nearest' })
      .raw()
      .toBuffer();
  } catch (err) {
    throw decodeError(err, field);
  }
}

/** Cache name of a derived copy in the file store. */
export function derivedKey(variant: ImageVariant.NORMALIZED | ImageVariant.THUMBNAIL): string {
  return variant === ImageVariant.THUMBNAIL ? 'thumbnail' : 'normalized';
}

/** Width and height as displayed: EXIF orientations 5 to 8 turn the image a quarter. */
export function displayedSize(info: Pick<ImageInfo, 'width' | 'height' | 'orientation'>): {
  width: number;
  height: number;
} {
  return info.orientation >= 5
    ? { width: info.height, height: info.width }
    : { width: info.width, height: info.height };
}

/** Content type of a derived copy from its first bytes (normalised copies are JPEG or PNG). */
export function sniffDerivedType(head: Buffer): string {
  return head.length >= 4 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47
    ? 'image/png'
    : 'image/jpeg';
}
