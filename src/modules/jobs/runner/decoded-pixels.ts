import { decodeAndResize, type InputSpec, type ResizedRgb } from '../../../inference/preprocess';

/** What decodeAndResize's output depends on: members whose inputs share it share one decode. */
export type DecodeSpec = Pick<InputSpec, 'width' | 'height' | 'resize'>;
export const decodeKey = (s: DecodeSpec): string => `${s.width}x${s.height}:${s.resize ?? 'fill'}`;

/** Width and height as displayed (EXIF orientation applied). */
export interface DisplayedSize {
  width: number;
  height: number;
}

/** What an upload decoded for the job after it. */
export interface DecodedImage {
  /** Model-input pixels by decodeKey. */
  pixels: ReadonlyMap<string, ResizedRgb>;
  /** The image's displayed size (the Grad-CAM map's aspect), when the upload knew it: the job then need not read the file. */
  size: DisplayedSize | null;
}

interface Entry extends DecodedImage {
  bytes: number;
  expires: number;
}

/**
 * Model-input pixels of images just uploaded, for the job that follows in this process
 * (uploadImages with classify). The upload decodes every file once anyway, to refuse a corrupt one;
 * done at the input sizes of the job's models, that decode is the job's preprocessing too, and the
 * job starts from these pixels instead of decoding the stored file again. Keyed by content
 * (sha256), so the pixels are the file's whoever uploaded it. Bounded in bytes, oldest out first;
 * an entry lives `ttlMs`. A miss costs only the decode it would have saved.
 */
export class DecodedPixels {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Decodes `source` (bytes or a path) at each of `specs` (throws what the decode throws; refuses more than
   * `maxPixels`) and keeps the pixels, with the image's displayed `size` when known, under `sha256`.
   */
  async decode(
    source: Buffer | string,
    sha256: string,
    specs: DecodeSpec[],
    size: DisplayedSize | null = null,
    maxPixels?: number,
  ) {
    const pixels = new Map<string, ResizedRgb>();
    for (const s of specs) {
      const k = decodeKey(s);
      if (!pixels.has(k)) pixels.set(k, await decodeAndResize(source, s, maxPixels));
    }
    this.put(sha256, pixels, size);
  }

  put(sha256: string, pixels: Map<string, ResizedRgb>, size: DisplayedSize | null = null): void {
    this.drop(sha256);
    const bytes = [...pixels.values()].reduce((n, p) => n + p.data.byteLength, 0);
    if (bytes > this.maxBytes) return;
    const now = this.now();
    // Map order is insertion order: the first entries are the oldest.
    for (const [k, e] of this.entries) {
      if (this.bytes + bytes <= this.maxBytes && e.expires > now) break;
      this.drop(k);
    }
    this.entries.set(sha256, { pixels, size, bytes, expires: now + this.ttlMs });
    this.bytes += bytes;
  }

  /** What was kept for `sha256`, or undefined. */
  get(sha256: string): DecodedImage | undefined {
    const e = this.entries.get(sha256);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.drop(sha256);
      return undefined;
    }
    return { pixels: e.pixels, size: e.size };
  }

  /** Bytes held (for tests and metrics). */
  get size(): number {
    return this.bytes;
  }

  private drop(sha256: string): void {
    const e = this.entries.get(sha256);
    if (!e) return;
    this.entries.delete(sha256);
    this.bytes -= e.bytes;
  }
}
