/** The stored form of a Grad-CAM map (a file in the content-addressed store, named on the prediction). */
const MAP_MAGIC = Buffer.from('DGMAP1\n\0');
/**
 * A Grad-CAM map as stored: 8 magic bytes, width and height (uint32 BE), then one byte per pixel
 * (round(v * 255)). Raw rather than PNG so the job pays no PNG encode; the heatmap and overlays
 * are rendered from it on first request and cached.
 */
export function encodeMap(map: ArrayLike<number>, width: number, height: number): Buffer {
  const out = Buffer.alloc(16 + width * height);
  MAP_MAGIC.copy(out, 0);
  out.writeUInt32BE(width, 8);
  out.writeUInt32BE(height, 12);
  for (let i = 0; i < width * height; i++) {
    const v = map[i];
    // Clamped to [0, 1] (NaN to 0), then rounded half up: Math.round of a value that is never negative.
    out[16 + i] = ((v > 0 ? (v < 1 ? v : 1) : 0) * 255 + 0.5) | 0;
  }
  return out;
}

export function decodeMap(bytes: Buffer): { map: Float32Array; width: number; height: number } {
  if (bytes.length < 16 || !bytes.subarray(0, 8).equals(MAP_MAGIC)) throw new Error('not a stored Grad-CAM map');
  const width = bytes.readUInt32BE(8);
  const height = bytes.readUInt32BE(12);
  if (bytes.length !== 16 + width * height) throw new Error('truncated Grad-CAM map');
  return { map: Float32Array.from(bytes.subarray(16), (v) => v / 255), width, height };
}
