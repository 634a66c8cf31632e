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
  const axis = (o: number, inSize: number, outSize: number) => {
    const s = Math.min(Math.max((o + 0.5) * (inSize / outSize) - 0.5, 0), inSize - 1);
    const i0 = Math.floor(s);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), t: s - i0 };
  };
  const xs = Array.from({ length: outWidth }, (_, x) => axis(x, width, outWidth));
  for (let y = 0; y < outHeight; y++) {
    const { i0: y0, i1: y1, t: ty } = axis(y, height, outHeight);
    for (let x = 0; x < outWidth; x++) {
      const { i0: x0, i1: x1, t: tx } = xs[x];
      const top = src[y0 * width + x0] * (1 - tx) + src[y0 * width + x1] * tx;
      const bottom = src[y1 * width + x0] * (1 - tx) + src[y1 * width + x1] * tx;
      out[y * outWidth + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/** Min-max scaling to [0, 1]; a flat map (e.g. all zero: no evidence for the class) becomes all zero. */
export function normaliseUnit(map: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    if (map[i] < lo) lo = map[i];
    if (map[i] > hi) hi = map[i];
  }
  const out = new Float32Array(map.length);
  if (!(hi > lo)) return out;
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
    return width === imageWidth && height === imageHeight
      ? Float32Array.from(map)
      : resizeBilinear(map, width, height, imageWidth, imageHeight);
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
  return mapToImage(
    normaliseUnit(resizeBilinear(cam, width, height, r.width, r.height)),
    r.width,
    r.height,
    imageWidth,
    imageHeight,
    fit,
  );
}
