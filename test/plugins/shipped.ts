/** The shipped plugin folders the tests in test/plugins look at. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const PLUGIN_ROOT = path.join(__dirname, '../../plugins');

export function shippedPlugins(): string[] {
  return readdirSync(PLUGIN_ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(PLUGIN_ROOT, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
}

export const CLASSIFIERS = ['dg-gap-classifier', 'dg-mlp-classifier'];
export const SEGMENTERS = ['dg-seg-stats', 'dg-seg-skin-distance'];

/** base64 of little-endian float32 (the fixture format written by training/train_classifier.py). */
export function decodeF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
