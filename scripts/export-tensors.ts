/**
 * Exports the float32 input tensors of every dataset image, made by the project's own
 * preprocessing (src/inference/preprocess.ts), so PyTorch trains and evaluates on exactly the
 * tensors the server feeds onnxruntime-node: one preprocessing, no training/serving skew.
 *
 * Usage: node dist/scripts/export-tensors.js [--spec training/specs/classifier-input.json]
 *          [--dataset datasets/isic-uda1] [--out training/.cache/classifier-input]
 * Writes <out>/tensors.f32 (N x C x H x W float32, little-endian, images in index order) and
 * <out>/index.json ({ spec, shape, ids, labels }).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { batchShape, imageToTensor, type InputSpec } from '../src/inference/preprocess';
import { readLabels } from './dataset';

interface Args {
  spec: string;
  dataset: string;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    spec: 'training/specs/classifier-input.json',
    dataset: 'datasets/isic-uda1',
    out: '',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args) || argv[i + 1] === undefined) throw new Error(`unknown or incomplete argument: ${argv[i]}`);
    (args as unknown as Record<string, string>)[key] = argv[i + 1];
  }
  if (!args.out) args.out = path.join('training/.cache', path.basename(args.spec, '.json'));
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const spec = JSON.parse(await readFile(args.spec, 'utf8')) as InputSpec;
  const rows = await readLabels(args.dataset);
  const perImage = 3 * spec.width * spec.height;
  const all = new Float32Array(rows.length * perImage);
  for (const [i, row] of rows.entries()) {
    const { tensor } = await imageToTensor(path.join(args.dataset, 'images', `${row.id}.jpg`), spec);
    all.set(tensor, i * perImage);
  }
  await mkdir(args.out, { recursive: true });
  await writeFile(path.join(args.out, 'tensors.f32'), Buffer.from(all.buffer));
  const index = {
    spec,
    shape: batchShape(rows.length, spec),
    ids: rows.map((r) => r.id),
    labels: rows.map((r) => r.label),
  };
  await writeFile(path.join(args.out, 'index.json'), JSON.stringify(index) + '\n');
  console.log(`wrote ${rows.length} tensors of ${JSON.stringify(index.shape.slice(1))} to ${args.out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
