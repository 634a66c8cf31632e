import { createHash } from 'node:crypto';
import { camToImage, type ModelFit } from '../../inference/cam-map';

/**
 * The stored form of a Grad-CAM map: kept in its prediction row (`grad_cam_map`) and named by its sha256,
 * which heatmap URLs carry; rows stored before have it as a file of the content-addressed store.
 *
 * What is stored is the CAM itself, at the feature map's resolution (4 x 4 to 16 x 16 values), with
 * the size of the image it lays on and how the model's input was cut from that image: everything
 * `camToImage` needs to bring it to the image. A job so spends nothing on the image-size map (its
 * bilinear upsampling, scaling and a 60 KB file per 250 x 250 image, ~1 ms of the event loop); the
 * heatmap and overlays, rendered on an image thread when first asked for and cached, do the
 * upsampling there. The values are kept as float64, so the map is what the job would have made.
 *
 * Layout (integers big-endian, values little-endian float64):
 *   magic 'DGMAP2\n\0' · width, height (uint32: the image size the map lays on) ·
 *   camWidth, camHeight (uint32) · fit (uint8: 0 'fill', 1 'cover') · modelWidth, modelHeight (uint32) ·
 *   camWidth x camHeight values, row-major.
 *
 * Maps stored before (magic 'DGMAP1\n\0': width, height, then one byte per pixel of the image-size
 * map) are still read.
 */
const MAP_MAGIC_V2 = Buffer.from('DGMAP2\n\0');
const MAP_MAGIC_V1 = Buffer.from('DGMAP1\n\0');
const HEADER_V2 = 8 + 4 * 4 + 1 + 2 * 4;
/** No stored map is larger (MAX_CAM_SIDE is 1024): a corrupt header cannot make a reader allocate gigabytes. */
const MAX_SIDE = 16_384;

/** A CAM at feature resolution and what lays it on its image. */
export interface StoredCam {
  /** Row-major camWidth x camHeight, before scaling (camToImage scales after upsampling). */
  cam: ArrayLike<number>;
  camWidth: number;
  camHeight: number;
  /** The size of the map laid on the image (at most MAX_CAM_SIDE on the long side). */
  width: number;
  height: number;
  fit?: ModelFit;
}

/** The map's bytes and the sha256 that names it. */
export function storedMap(m: StoredCam): { bytes: Buffer; sha256: string } {
  const bytes = encodeMap(m);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export function encodeMap(m: StoredCam): Buffer {
  const n = m.camWidth * m.camHeight;
  if (m.cam.length !== n) throw new Error(`a ${m.camWidth}x${m.camHeight} CAM needs ${n} values, got ${m.cam.length}`);
  const out = Buffer.alloc(HEADER_V2 + 8 * n);
  MAP_MAGIC_V2.copy(out, 0);
  let o = out.writeUInt32BE(m.width, 8);
  o = out.writeUInt32BE(m.height, o);
  o = out.writeUInt32BE(m.camWidth, o);
  o = out.writeUInt32BE(m.camHeight, o);
  const cover = m.fit?.mode === 'cover';
  o = out.writeUInt8(cover ? 1 : 0, o);
  o = out.writeUInt32BE(cover ? m.fit!.modelWidth : 0, o);
  o = out.writeUInt32BE(cover ? m.fit!.modelHeight : 0, o);
  for (let i = 0; i < n; i++) o = out.writeDoubleLE(m.cam[i], o);
  return out;
}

const sideOk = (v: number) => v >= 1 && v <= MAX_SIDE;

/** The map at its image size, each value in [0, 1]. */
export function decodeMap(bytes: Buffer): { map: Float32Array; width: number; height: number } {
  const magic = bytes.subarray(0, 8);
  if (magic.equals(MAP_MAGIC_V1)) return decodeV1(bytes);
  if (!magic.equals(MAP_MAGIC_V2)) throw new Error('not a stored Grad-CAM map');
  if (bytes.length < HEADER_V2) throw new Error('truncated Grad-CAM map');
  const [width, height, camWidth, camHeight] = [8, 12, 16, 20].map((at) => bytes.readUInt32BE(at));
  const cover = bytes.readUInt8(24) === 1;
  const [modelWidth, modelHeight] = [25, 29].map((at) => bytes.readUInt32BE(at));
  if (![width, height, camWidth, camHeight].every(sideOk) || (cover && ![modelWidth, modelHeight].every(sideOk)))
    throw new Error('not a stored Grad-CAM map');
  if (bytes.length !== HEADER_V2 + 8 * camWidth * camHeight) throw new Error('truncated Grad-CAM map');
  const cam = new Float64Array(camWidth * camHeight);
  for (let i = 0; i < cam.length; i++) cam[i] = bytes.readDoubleLE(HEADER_V2 + 8 * i);
  const fit: ModelFit | undefined = cover ? { mode: 'cover', modelWidth, modelHeight } : undefined;
  return { map: camToImage(cam, camWidth, camHeight, width, height, fit), width, height };
}

function decodeV1(bytes: Buffer): { map: Float32Array; width: number; height: number } {
  if (bytes.length < 16) throw new Error('truncated Grad-CAM map');
  const width = bytes.readUInt32BE(8);
  const height = bytes.readUInt32BE(12);
  if (bytes.length !== 16 + width * height) throw new Error('truncated Grad-CAM map');
  return { map: Float32Array.from(bytes.subarray(16), (v) => v / 255), width, height };
}
