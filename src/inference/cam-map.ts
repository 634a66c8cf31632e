/**
 * Map arithmetic shared by Grad-CAM and Score-CAM: the weighted channel sum, upsampling a
 * feature-resolution map to the image, and scaling it to [0, 1].
 */

/** A feature map A of one image, C x H x W, row-major (the batch axis dropped). */
export interface FeatureMap {
  data: ArrayLike<number>;
  channels: number;
  height: number;
  width: number;
}

export function checkFeatureMap(fm: FeatureMap): void {
  const n = fm.channels * fm.height * fm.width;
  if (!(fm.channels > 0 && fm.height > 0 && fm.width > 0) || fm.data.length !== n) {
    throw new Error(`feature map ${fm.channels}x${fm.height}x${fm.width} needs ${n} values, got ${fm.data.length}`);
  }
}

/**
 * Image `index` of a batched feature-map output ([N, C, H, W], as onnxruntime returns it),
 * without copying: the jobs layer runs batches, Grad-CAM explains one image at a time.
 */
export function featureMapAt(data: Float32Array, dims: readonly number[], index: number): FeatureMap {
  if (dims.length !== 4) throw new Error(`a feature map output must be [N, C, H, W], got [${dims}]`);
  const [n, channels, height, width] = dims;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`image ${index} is outside a batch of ${n}`);
  const size = channels * height * width;
  return { data: data.subarray(index * size, (index + 1) * size), channels, height, width };
}

/** ReLU(sum_k w_k A_k) at feature resolution: the class activation map before scaling. */
export function weightedChannelSum(fm: FeatureMap, weights: ArrayLike<number>): Float64Array {
  checkFeatureMap(fm);
  if (weights.length !== fm.channels) throw new Error(`${weights.length} weights for ${fm.channels} channels`);
  const plane = fm.height * fm.width;
  const cam = new Float64Array(plane);
  for (let k = 0; k < fm.channels; k++) {
    const w = weights[k];
    if (w === 0) continue;
    for (let p = 0; p < plane; p++) cam[p] += w * fm.data[k * plane + p];
  }
  for (let p = 0; p < plane; p++) if (cam[p] < 0) cam[p] = 0;
  return cam;
}

/**
 * Bilinear resize with pixel centres aligned (half-pixel offset, edges clamped): what
 * cv2.resize(INTER_LINEAR) and torch's interpolate(align_corners=False) do when enlarging,
 * which is how pytorch-grad-cam brings a CAM to the image.
 */
export function resizeBilinear(
  src: ArrayLike<number>,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  if (src.length !== width * height)
    throw new Error(`map of ${width}x${height} needs ${width * height} values, got ${src.length}`);
  const out = new Float32Array(outWidth * outHeight);
  // Per output column, its two source columns and weight, once (typed arrays: this runs per pixel of the image).
  const x0s = new Int32Array(outWidth);
  const x1s = new Int32Array(outWidth);
  const txs = new Float64Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const s = Math.min(Math.max((x + 0.5) * (width / outWidth) - 0.5, 0), width - 1);
    x0s[x] = Math.floor(s);
    x1s[x] = Math.min(x0s[x] + 1, width - 1);
    txs[x] = s - x0s[x];
  }
  // Separable: a source row is resized across once (kept in double precision, as the two-step sum would
  // be) and each output row blends two of them; enlarging, consecutive output rows share their rows.
  type Row = { y: number; row: Float64Array };
  const across = (y: number, into: Float64Array): Float64Array => {
    const r = y * width;
    for (let x = 0; x < outWidth; x++) into[x] = src[r + x0s[x]] * (1 - txs[x]) + src[r + x1s[x]] * txs[x];
    return into;
  };
  let upper: Row = { y: -1, row: new Float64Array(outWidth) };
  let lower: Row = { y: -1, row: new Float64Array(outWidth) };
  for (let y = 0; y < outHeight; y++) {
    const s = Math.min(Math.max((y + 0.5) * (height / outHeight) - 0.5, 0), height - 1);
    const y0 = Math.floor(s);
    const y1 = Math.min(y0 + 1, height - 1);
    const ty = s - y0;
    if (upper.y !== y0) {
      if (lower.y === y0) [upper, lower] = [lower, upper];
      else upper = { y: y0, row: across(y0, upper.row) };
    }
    if (lower.y !== y1) lower = { y: y1, row: across(y1, lower.row) };
    const a = upper.row;
    const b = lower.row;
    const row = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[row + x] = a[x] * (1 - ty) + b[x] * ty;
  }
  return out;
}

/** Min-max scaling to [0, 1]; a flat map (e.g. all zero: no evidence for the class) becomes all zero. */
export function normaliseUnit(map: ArrayLike<number>): Float32Array {
  return normaliseInto(map, new Float32Array(map.length));
}

/** normaliseUnit written into `out` (which may be `map` itself). */
function normaliseInto(map: ArrayLike<number>, out: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    if (map[i] < lo) lo = map[i];
    if (map[i] > hi) hi = map[i];
  }
  if (!(hi > lo)) return out.fill(0);
  for (let i = 0; i < map.length; i++) out[i] = (map[i] - lo) / (hi - lo);
  return out;
}

/**
 * How the model's input was cut from the image (the manifest's `input.resize`): 'fill' squashed
 * the whole image; 'cover' scaled it to cover the model size and took the centre, so a model-space
 * map only covers that centred crop of the image.
 */
export interface ModelFit {
  mode: 'fill' | 'cover';
  modelWidth: number;
  modelHeight: number;
}

/** The part of the image the model saw: the whole image for 'fill', the centred crop for 'cover' (as sharp cuts it). */
export function visibleRegion(
  imageWidth: number,
  imageHeight: number,
  fit?: ModelFit,
): { left: number; top: number; width: number; height: number } {
  if (!fit || fit.mode === 'fill') return { left: 0, top: 0, width: imageWidth, height: imageHeight };
  const scale = Math.max(fit.modelWidth / imageWidth, fit.modelHeight / imageHeight);
  const width = Math.min(imageWidth, Math.round(fit.modelWidth / scale));
  const height = Math.min(imageHeight, Math.round(fit.modelHeight / scale));
  return { left: Math.floor((imageWidth - width) / 2), top: Math.floor((imageHeight - height) / 2), width, height };
}

/**
 * A model-space map (any resolution) laid on the image: resized bilinearly onto the region the
 * model saw; pixels the model never saw (outside a 'cover' crop) get `outside`.
 */
export function mapToImage(
  map: ArrayLike<number>,
  width: number,
  height: number,
  imageWidth: number,
  imageHeight: number,
  fit?: ModelFit,
  outside = 0,
): Float32Array {
  const r = visibleRegion(imageWidth, imageHeight, fit);
  if (r.width === imageWidth && r.height === imageHeight) {
    if (width !== imageWidth || height !== imageHeight)
      return resizeBilinear(map, width, height, imageWidth, imageHeight);
    return map instanceof Float32Array ? map.slice() : Float32Array.from(map);
  }
  const inner = resizeBilinear(map, width, height, r.width, r.height);
  const out = new Float32Array(imageWidth * imageHeight).fill(outside);
  for (let y = 0; y < r.height; y++)
    out.set(inner.subarray(y * r.width, (y + 1) * r.width), (r.top + y) * imageWidth + r.left);
  return out;
}

/** A feature-resolution CAM brought to the image: scaled to [0, 1], then laid on the region the model saw. */
export function camToImage(
  cam: ArrayLike<number>,
  width: number,
  height: number,
  imageWidth: number,
  imageHeight: number,
  fit?: ModelFit,
): Float32Array {
  const r = visibleRegion(imageWidth, imageHeight, fit);
  // The resized map is this call's own: scaled in place, and returned as it is when the model saw the whole image.
  const onRegion = resizeBilinear(cam, width, height, r.width, r.height);
  normaliseInto(onRegion, onRegion);
  if (r.width === imageWidth && r.height === imageHeight) return onRegion;
  return mapToImage(onRegion, r.width, r.height, imageWidth, imageHeight, fit);
}
