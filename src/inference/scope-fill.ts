/**
 * The scope's dark surround painted over with the skin's colour before a segmenter sees the image.
 * Segmenters that look for "darker than the rest" (both shipped ones) take the near-black surround
 * as the darkest thing in view: their adaptive threshold then splits surround from field and the
 * lesion inside the field is lost or merged with the field. With the surround painted the median
 * colour of the field, the lesion is again the darkest thing in view. The field is found as the
 * post-processing finds it (field-of-view.ts), on the model's own input (a few hundred pixels: cheap).
 */
import { detectFieldOfView } from './field-of-view';
import { greyFromRgb } from './mask-metrics';

/** Median of the values at the indices where `keep` is set (0..255 bytes, by histogram). */
function medianByte(values: ArrayLike<number>, stride: number, offset: number, keep: Uint8Array): number {
  const hist = new Uint32Array(256);
  let n = 0;
  for (let i = 0; i < keep.length; i++)
    if (keep[i]) {
      hist[values[i * stride + offset]]++;
      n++;
    }
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v];
    if (2 * seen >= n) return v;
  }
  return 255;
}

/**
 * `rgb` (interleaved bytes, width x height) with every pixel outside the scope's field (surround and
 * the field's soft edge) set to the field's per-channel median; the input itself when no surround is
 * found. Never changes `rgb` in place: the caller's pixels may be shared.
 */
export function fillScopeSurround(
  rgb: Uint8Array,
  width: number,
  height: number,
): { rgb: Uint8Array; filled: boolean } {
  const field = detectFieldOfView(greyFromRgb(rgb), width, height);
  if (!field.detected) return { rgb, filled: false };
  const fill = [0, 1, 2].map((c) => medianByte(rgb, 3, c, field.mask));
  const out = rgb.slice();
  for (let i = 0; i < field.mask.length; i++) if (!field.mask[i]) for (let c = 0; c < 3; c++) out[i * 3 + c] = fill[c];
  return { rgb: out, filled: true };
}
