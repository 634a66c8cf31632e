/**
 * Renders segmentation masks over real images so a person can look at them: one PNG sheet, a row per
 * image (the image, then each model's mask over it: red tint where mask >= 0.5, a yellow contour).
 * Runs the ONNX files through onnxruntime-node on tensors made by src/inference/preprocess.ts.
 *
 * Usage: node dist/scripts/render-overlays.js --models a.onnx,b.onnx --ids ISIC_1,ISIC_2 [--out sheet.png]
 *          [--spec training/specs/segmenter-input.json] [--dataset datasets/isic-uda1]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { imageToTensor, type InputSpec } from '../src/inference/preprocess';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

/** Pure: RGB bytes with the mask tinted red and its boundary drawn yellow. */
export function overlay(rgb: Uint8Array, mask: Float32Array, width: number, height: number, threshold = 0.5): Buffer {
  const out = Buffer.from(rgb);
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] >= threshold;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inside(x, y)) continue;
      const p = (y * width + x) * 3;
      const edge = !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1);
      const tint = edge ? [255, 255, 0] : [255, 0, 0];
      const a = edge ? 1 : 0.35;
      for (let c = 0; c < 3; c++) out[p + c] = Math.round(out[p + c] * (1 - a) + tint[c] * a);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const spec = JSON.parse(await readFile(arg('spec', 'training/specs/segmenter-input.json'), 'utf8')) as InputSpec & {
    name: string;
  };
  const dataset = arg('dataset', 'datasets/isic-uda1');
  const ids = arg('ids').split(',');
  const sessions = await Promise.all(
    arg('models')
      .split(',')
      .map((m) => ort.InferenceSession.create(m)),
  );
  const { width, height } = spec;
  const tiles: sharp.OverlayOptions[] = [];
  for (const [row, id] of ids.entries()) {
    const { tensor, resized } = await imageToTensor(path.join(dataset, 'images', `${id}.jpg`), spec);
    const panels: Buffer[] = [Buffer.from(resized.data)];
    for (const s of sessions) {
      const out = await s.run({ [spec.name]: new ort.Tensor('float32', tensor, [1, 3, height, width]) });
      panels.push(overlay(resized.data, out[s.outputNames[0]].data as Float32Array, width, height));
    }
    panels.forEach((p, col) =>
      tiles.push({ input: p, raw: { width, height, channels: 3 }, left: col * width, top: row * height }),
    );
  }
  const cols = sessions.length + 1;
  const file = arg('out', 'training/.cache/overlays/sheet.png');
  const sheet = sharp({
    create: { width: cols * width, height: ids.length * height, channels: 3, background: '#000' },
  }).composite(tiles);
  await (/\.jpe?g$/i.test(file) ? sheet.jpeg({ quality: 88 }) : sheet.png()).toFile(file);
  console.log(`wrote ${file}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
