/**
 * From a segmentation probability map (an ensemble's or one member's, at the image's resolution) to the
 * lesion mask, robust to what dermoscopy photographs hold besides the lesion:
 * 1. hair: a grey-level opening of the map (a square HAIR_FRACTION of the short side) before the
 *    threshold, so thin bright lines of probability (a hair marked as lesion) fall to their surroundings;
 * 2. the scope's dark surround: probability 0 outside the visible field (field-of-view.ts);
 * 3. threshold: probability >= threshold;
 * 4. the lesion near the centre: dermoscopy centres the lesion, so the 8-connected pieces that reach the
 *    central zone (an ellipse of CENTRE_RADIUS times the field's half-extent around the field's centre)
 *    are kept and the others (specks, edge fragments) dropped; when none reaches it, the largest piece.
 * `touchesBorder` then says whether the lesion reaches the image's edge or the field's: it may go on
 * beyond what the photograph shows, so its area is a lower bound.
 */
import { resizeBilinear } from './cam-map';
import type { FieldOfView } from './field-of-view';
import { labelComponents, largestLabel, maskOfLabels } from './mask-components';
import { openSquare } from './morphology';

export const HAIR_FRACTION = 0.02;
export const CENTRE_RADIUS = 0.5;
/**
 * Long side above which step 1 runs on the map made at a smaller size (same aspect) and is resized
 * back. The maps come from model outputs of a few hundred pixels, so a finer opening finds nothing
 * more and costs about half a second per map on a 12-megapixel photograph.
 */
export const OPENING_MAX_SIDE = 1024;

/** The same probability map made at a smaller size (workingSize), for a cheaper step 1. */
export interface WorkingMap {
  map: Float32Array;
  width: number;
  height: number;
}

export interface LesionMask {
  mask: Uint8Array;
  touchesBorder: boolean;
}

/** The opening's window for an image: HAIR_FRACTION of the short side, odd, at least 3. */
export function hairWindow(width: number, height: number): number {
  return Math.max(3, 2 * Math.round((HAIR_FRACTION * Math.min(width, height)) / 2) + 1);
}

/** The size step 1 works at: the image's, or its aspect with the long side at OPENING_MAX_SIDE. */
export function workingSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, OPENING_MAX_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Step 1 at the image size. With `working`, the opening runs there and is resized back bilinearly;
 * the minimum with the map keeps the opening's promise never to raise a value.
 */
export function hairOpened(
  probability: ArrayLike<number>,
  width: number,
  height: number,
  working?: WorkingMap | null,
): Float32Array {
  if (!working || (working.width === width && working.height === height))
    return openSquare(probability, width, height, hairWindow(width, height));
  const small = openSquare(working.map, working.width, working.height, hairWindow(working.width, working.height));
  const opened = resizeBilinear(small, working.width, working.height, width, height);
  for (let i = 0; i < opened.length; i++) if (probability[i] < opened[i]) opened[i] = probability[i];
  return opened;
}

/** The centre and half-extents of the field (its bounding box), or of the image when there is no field. */
function centralZone(width: number, height: number, field: Uint8Array | null) {
  let [x0, y0, x1, y1] = [0, 0, width - 1, height - 1];
  if (field) {
    [x0, y0, x1, y1] = [width, height, -1, -1];
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if (field[y * width + x]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
    if (x1 < 0) [x0, y0, x1, y1] = [0, 0, width - 1, height - 1];
  }
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, ax: (x1 - x0 + 1) / 2, ay: (y1 - y0 + 1) / 2 };
}

/**
 * The pieces of `mask` that reach the central zone (step 4 of the module comment); the largest piece
 * when none does. `field` (1 = visible) places the zone; null means the whole image.
 */
export function keepCentralComponents(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  field: Uint8Array | null = null,
): Uint8Array {
  const pieces = labelComponents(mask, width, height);
  if (pieces.count <= 1) return maskOfLabels(pieces, new Set([1]));
  const { cx, cy, ax, ay } = centralZone(width, height, field);
  const keep = new Set<number>();
  for (let y = 0; y < height; y++) {
    const dy = (y - cy) / (CENTRE_RADIUS * ay);
    for (let x = 0; x < width; x++) {
      const label = pieces.labels[y * width + x];
      if (!label || keep.has(label)) continue;
      const dx = (x - cx) / (CENTRE_RADIUS * ax);
      if (dx * dx + dy * dy <= 1) keep.add(label);
    }
  }
  if (keep.size === 0) keep.add(largestLabel(pieces));
  return maskOfLabels(pieces, keep);
}

/**
 * Whether the mask reaches the image's edge, or (with a field) a pixel next to the scope's surround:
 * a 4-neighbour outside the field.
 */
export function touchesBorder(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  field: Uint8Array | null = null,
): boolean {
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) return true;
      if (field && (!field[i - 1] || !field[i + 1] || !field[i - width] || !field[i + width])) return true;
    }
  return false;
}

/**
 * Steps 1 to 4 of the module comment on one probability map (values 0..1, width x height); `working`
 * is the same map at workingSize when that is smaller (hairOpened).
 */
export function lesionMask(
  probability: ArrayLike<number>,
  width: number,
  height: number,
  threshold: number,
  fov: FieldOfView,
  working?: WorkingMap | null,
): LesionMask {
  const opened = hairOpened(probability, width, height, working);
  const field = fov.detected ? fov.mask : null;
  const raw = new Uint8Array(width * height);
  for (let i = 0; i < raw.length; i++) raw[i] = opened[i] >= threshold && (!field || field[i]) ? 1 : 0;
  const mask = keepCentralComponents(raw, width, height, field);
  return { mask, touchesBorder: touchesBorder(mask, width, height, field) };
}
