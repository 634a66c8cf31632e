import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { RunningServer } from '../../src/app/start';
import { imageToTensor } from '../../src/inference/preprocess';
import { sealPackage } from '../../src/models-registry/package/package';
import { projectRoot } from '../../src/infra/paths';
import { IMAGES } from './settings';

/** Realistic-size classifiers (torchvision architectures, random weights) to put the ratio in context. */
export const HEAVY = [
  { arch: 'mobilenet_v3_small', name: 'bench-mobilenet-v3-small' },
  { arch: 'resnet18', name: 'bench-resnet18' },
];

/**
 * Exports `arch` with bench/heavy_classifier.py into bench/.cache, writes its manifest (the golden
 * case computed here with the same preprocessing and runtime the registry checks it with) and
 * installs it, active, into the server's registry. Null, with the reason, without python3 + torch.
 */
export async function installHeavy(server: RunningServer, arch: string, name: string): Promise<string | null> {
  const dir = path.join(projectRoot, 'bench/.cache', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'golden'), { recursive: true });
  try {
    await promisify(execFile)(
      '/usr/bin/python3',
      [path.join(projectRoot, 'bench/heavy_classifier.py'), arch, path.join(dir, 'model.onnx')],
      { timeout: 300_000 },
    );
  } catch (e) {
    return `cannot export ${arch} with /usr/bin/python3 + torchvision (python3-torch absent?): ${String((e as Error).message).split('\n')[0]}`;
  }
  const golden = 'golden/ISIC_0000150.jpg';
  await copyFile(IMAGES[0], path.join(dir, golden));
  const input = {
    name: 'input',
    dtype: 'float32',
    layout: 'NCHW',
    width: 224,
    height: 224,
    colorOrder: 'RGB',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    resize: 'fill',
  } as const;
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const { tensor } = await imageToTensor(await readFile(path.join(dir, golden)), input as never);
  const logits = Array.from(
    (await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, 224, 224]) })).logits.data as Float32Array,
  );
  await session.release();
  const exp = logits.map((l) => Math.exp(l - Math.max(...logits)));
  const probabilities = exp.map((e) => Number((e / exp.reduce((a, b) => a + b, 0)).toFixed(6)));
  await writeFile(
    path.join(dir, 'MODEL_CARD.md'),
    `# ${name}\n\ntorchvision ${arch}, random weights (seed 0), 2 classes: a bench load of realistic size. Meaningless outputs; never for use.\n`,
  );
  const manifest = {
    schemaVersion: 1,
    name,
    version: '1.0.0',
    task: 'classification',
    description: `torchvision ${arch} with random weights: bench load only, outputs meaningless`,
    modelFile: 'model.onnx',
    files: {},
    input,
    outputs: [{ name: 'logits', role: 'logits' }],
    labels: ['benign', 'malignant'],
    malignantLabels: ['malignant'],
    postprocess: { activation: 'softmax', decisionThreshold: 0.5 },
    devices: ['cpu'],
    batching: { maxBatch: 8, maxDelayMs: 5 },
    threads: { intraOp: 1, interOp: 1 },
    license: 'BSD-3-Clause',
    provenance: {
      authors: 'Dermagraph bench',
      trainingData: 'none (random weights)',
      trainingScript: 'bench/heavy_classifier.py',
      createdAt: new Date().toISOString(),
    },
    goldenCases: [{ image: golden, expected: { probabilities }, tolerance: 0.001 }],
  };
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await sealPackage(dir);
  await server.services.models.install(dir, { activate: true });
  return null;
}
