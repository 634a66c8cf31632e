import sharp from './sharp';

/** How a model wants its input tensor made from an image (the `input` block of a manifest). */
export interface InputSpec {
  /** NCHW (PyTorch) or NHWC (TensorFlow). */
  layout: 'NCHW' | 'NHWC';
  width: number;
  height: number;
  /** Channel order in the tensor. */
  colorOrder: 'RGB' | 'BGR';
  /** Multiplied into every 0..255 byte before mean/std, e.g. 1/255. */
  scale: number;
  /** Per channel, in the tensor's channel order, applied after scale: (v*scale - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  /** 'fill' squashes to width x height (as the ISIC thumbnails were made); 'cover' crops the centre. */
  resize?: 'fill' | 'cover';
}

/** Decoded RGB pixels at the model's size, before normalisation (kept for overlays and Score-CAM). */
export interface ResizedRgb {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes any image sharp reads, applies EXIF orientation, drops alpha and resizes to the
 * model's input size. This is the one decoding path used for training exports, evaluation,
 * golden cases and serving, so the models never see pixels made another way.
 */
export async function decodeAndResize(
  input: Buffer | string,
  spec: Pick<InputSpec, 'width' | 'height' | 'resize'>,
  /** Refuse an input of more pixels (an upload's UPLOAD_MAX_PIXELS); sharp's own limit otherwise. */
  maxPixels?: number,
): Promise<ResizedRgb> {
  const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: maxPixels ?? true })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(spec.width, spec.height, { fit: spec.resize ?? 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after decode, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/** Per channel (in the tensor's order), each byte value's normalised float: (v * scale - mean) / std. */
function makeChannelTables(spec: InputSpec): Float32Array[] {
  return [0, 1, 2].map((c) =>
    Float32Array.from({ length: 256 }, (_, v) => (v * spec.scale - spec.mean[c]) / spec.std[c]),
  );
}

/**
 * The tables of a spec, made once per spec object (a manifest's `input`, shared by every image of its
 * model, and never changed once loaded): making them cost as much as converting a 128 x 128 image.
 */
const tableCache = new WeakMap<InputSpec, Float32Array[]>();
function channelTables(spec: InputSpec): Float32Array[] {
  let tables = tableCache.get(spec);
  if (!tables) tableCache.set(spec, (tables = makeChannelTables(spec)));
  return tables;
}

/**
 * Pure: interleaved RGB bytes to a normalised float tensor of one image, in the spec's layout,
 * written into `out` when given (a batch's slot, say) or into a new array. Each channel maps its
 * 256 byte values through a table computed once per call, so the pixel loop is lookups and stores only.
 */
export function rgbToTensor(rgb: Uint8Array, spec: InputSpec, out = new Float32Array(rgb.length)): Float32Array {
  const { width, height } = spec;
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new Error(`expected ${plane * 3} bytes, got ${rgb.length}`);
  if (out.length !== plane * 3) throw new Error(`expected a tensor of ${plane * 3} values, got ${out.length}`);
  // Tensor channel c reads byte channel order[c]; turned around, byte channel j goes to tensor channel
  // c(j) through that channel's table, so the loops read bytes at fixed offsets (half the time of
  // reading them at offsets held in variables).
  const tables = channelTables(spec);
  const to = spec.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const [t0, t1, t2] = [tables[to[0]], tables[to[1]], tables[to[2]]];
  if (spec.layout === 'NCHW') {
    const [b0, b1, b2] = [to[0] * plane, to[1] * plane, to[2] * plane];
    for (let p = 0, i = 0; p < plane; p++, i += 3) {
      out[b0 + p] = t0[rgb[i]];
      out[b1 + p] = t1[rgb[i + 1]];
      out[b2 + p] = t2[rgb[i + 2]];
    }
  } else {
    const [c0, c1, c2] = to;
    for (let i = 0; i < plane * 3; i += 3) {
      out[i + c0] = t0[rgb[i]];
      out[i + c1] = t1[rgb[i + 1]];
      out[i + c2] = t2[rgb[i + 2]];
    }
  }
  return out;
}

/** Image file or bytes to the float tensor (one image, no batch axis) the manifest describes. */
export async function imageToTensor(
  input: Buffer | string,
  spec: InputSpec,
): Promise<{ tensor: Float32Array; resized: ResizedRgb }> {
  const resized = await decodeAndResize(input, spec);
  return { tensor: rgbToTensor(resized.data, spec), resized };
}

/** Shape of a batch of `n` images for the spec's layout. */
export function batchShape(n: number, spec: Pick<InputSpec, 'layout' | 'width' | 'height'>): number[] {
  return spec.layout === 'NCHW' ? [n, 3, spec.height, spec.width] : [n, spec.height, spec.width, 3];
}
