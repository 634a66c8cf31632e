/**
 * Connected components of a binary mask (row-major, width*height, non-zero = lesion). A segmenter's
 * mask is often one lesion plus specks or edge fragments; the severity figures are taken on the
 * lesion itself (its largest component), so the pieces have to be told apart.
 */

export interface Components {
  /** 0 = background, 1..count = the component of each pixel, numbered in raster order of first pixel. */
  labels: Int32Array;
  count: number;
  /** areas[k - 1] = pixels of component k. */
  areas: number[];
}

/**
 * Labels the 8-connected components (scikit-image's `measure.label` default for 2-D, connectivity 2):
 * diagonal neighbours belong together, as a digitised oblique edge is a diagonal chain of pixels.
 * A breadth-first flood fill with one preallocated queue: linear in the pixels, no recursion.
 */
export function labelComponents(mask: ArrayLike<number>, width: number, height: number): Components {
  if (mask.length !== width * height) throw new Error(`expected ${width * height} pixels, got ${mask.length}`);
  const n = width * height;
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  const areas: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = areas.length + 1;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    labels[start] = label;
    while (head < tail) {
      const i = queue[head++];
      const x = i % width;
      // The up to 8 neighbours, offsets checked against the image's edges (no call per pixel).
      const y0 = i >= width ? -width : 0;
      const y1 = i < n - width ? width : 0;
      const x0 = x > 0 ? -1 : 0;
      const x1 = x < width - 1 ? 1 : 0;
      for (let dy = y0; dy <= y1; dy += width) {
        for (let dx = x0; dx <= x1; dx++) {
          const j = i + dy + dx;
          if (mask[j] && !labels[j]) {
            labels[j] = label;
            queue[tail++] = j;
          }
        }
      }
    }
    areas.push(tail);
  }
  return { labels, count: areas.length, areas };
}

/** The label of the largest component (the first in raster order on a tie), or 0 when there is none. */
export function largestLabel(c: Components): number {
  let best = 0;
  for (let k = 0; k < c.count; k++) if (best === 0 || c.areas[k] > c.areas[best - 1]) best = k + 1;
  return best;
}

/** A 0/1 mask of the pixels whose label is in `keep`. */
export function maskOfLabels(c: Components, keep: ReadonlySet<number>): Uint8Array {
  const out = new Uint8Array(c.labels.length);
  for (let i = 0; i < out.length; i++) if (keep.has(c.labels[i])) out[i] = 1;
  return out;
}

/** The largest component alone (an empty mask stays empty). */
export function largestComponent(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  const c = labelComponents(mask, width, height);
  return maskOfLabels(c, new Set([largestLabel(c)].filter((k) => k > 0)));
}
