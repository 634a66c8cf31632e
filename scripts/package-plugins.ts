/**
 * Finishes the shipped plugin folders after training/build: copies golden images, computes their
 * expected outputs through the TypeScript path (preprocess.ts + onnxruntime-node), measures CPU
 * latency, evaluates classifiers on the test split, renders MODEL_CARD.md from its template and
 * writes manifest.json with the sha256 of every file.
 *
 * Inputs: plugins/<name>/model.onnx, training/packages/<name>/{manifest.base.json, MODEL_CARD.template.md},
 * training/.cache/<name>.train.json (classifiers). Usage: node dist/scripts/package-plugins.js [name ...]
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { version as ortVersion } from 'onnxruntime-node/package.json';
import { readLabels, readSplits } from './dataset';
import { evaluateClassifier, manifestMetricsBlock } from './evaluate';
import { cvEntry, readCvResults } from './cv-results';
import { fillTemplate, renderCvTable, renderMetricsTable, thresholdSentence } from './model-card';
import { PluginRunner, type PluginManifest } from './plugin-runner';

const DATASET = 'datasets/isic-uda1';
const PLUGINS = ['dg-gap-classifier', 'dg-mlp-classifier', 'dg-seg-stats', 'dg-seg-skin-distance'];

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out.sort();
}

/** The first malignant and the first benign image of the test split: real, held-out golden inputs. */
async function goldenIds(): Promise<string[]> {
  const labels = new Map((await readLabels(DATASET)).map((r) => [r.id, r.label]));
  const test = (await readSplits()).test;
  return ['malignant', 'benign'].map((l) => test.find((id) => labels.get(id) === l)!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time of the model alone (batch 1, and per image in a batch of 8) and of JPEG decode + resize + tensor + model. */
async function measureLatency(
  runner: PluginRunner,
  image: string,
): Promise<{ modelMs: number; batch8PerImageMs: number; endToEndMs: number }> {
  const tensor = await runner.tensor(image);
  for (let i = 0; i < 10; i++) await runner.runTensors([tensor]);
  const model: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = process.hrtime.bigint();
    await runner.runTensors([tensor]);
    model.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const batch8: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = process.hrtime.bigint();
    await runner.runTensors(Array.from({ length: 8 }, () => tensor));
    batch8.push(Number(process.hrtime.bigint() - t0) / 1e6 / 8);
  }
  const e2e: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = process.hrtime.bigint();
    await runner.runTensors([await runner.tensor(image)]);
    e2e.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const ms = (xs: number[]) => Math.round(median(xs) * 100) / 100;
  return { modelMs: ms(model), batch8PerImageMs: ms(batch8), endToEndMs: ms(e2e) };
}

async function maskPng(mask: Float32Array, width: number, height: number, threshold: number): Promise<Buffer> {
  const bytes = Buffer.alloc(width * height);
  mask.forEach((v, i) => (bytes[i] = v >= threshold ? 255 : 0));
  return sharp(bytes, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

/** What training/train_classifier.py logs in training/.cache/<name>.train.json. */
interface TrainLog {
  parameters: number;
  seed: number;
  hyperparameters: Record<string, unknown>;
  pool: 'train' | 'dev';
  trainImages: number;
  temperature: number;
  shift: number;
  bestEpoch: number;
  bestValidationAuc: number | null;
  trainSeconds: number;
  /** The pinned PyTorch CPU kernels (training/common.py require_pinned_cpu_kernels). */
  cpuKernels: { ATEN_CPU_CAPABILITY: string; ONEDNN_MAX_CPU_ISA: string; atenCpuCapability: string; torch: string };
}

function trainingLines(t: TrainLog): string {
  const kept =
    t.pool === 'dev'
      ? `- trained on the ${t.trainImages} images of the development pool (train + validation) for all ${t.bestEpoch + 1} epochs, last weights kept (no early stopping, the recipe the cross-validation measures)`
      : `- trained on ${t.trainImages} images; best validation ROC AUC ${t.bestValidationAuc?.toFixed(4)} at epoch ${t.bestEpoch} (the weights kept)`;
  return [
    `- parameters: ${t.parameters}; seed ${t.seed}; hyperparameters ${JSON.stringify(t.hyperparameters)}`,
    kept,
    `- calibration folded into the last linear layer: T ${t.temperature}, shift ${t.shift} (W / T, b / T -+ shift / 2); training took ${t.trainSeconds} s on 1 CPU thread`,
    `- CPU kernels pinned: PyTorch ${t.cpuKernels.torch} with ATEN_CPU_CAPABILITY=${t.cpuKernels.ATEN_CPU_CAPABILITY} and ONEDNN_MAX_CPU_ISA=${t.cpuKernels.ONEDNN_MAX_CPU_ISA} (ATen ran ${t.cpuKernels.atenCpuCapability} kernels), so any x86-64 CPU with AVX2 trains these weights bit for bit`,
  ].join('\n');
}

async function packageOne(name: string): Promise<void> {
  const dir = path.join('plugins', name);
  const src = path.join('training/packages', name);
  const base = JSON.parse(await readFile(path.join(src, 'manifest.base.json'), 'utf8')) as PluginManifest;
  const manifest: PluginManifest = {
    ...base,
    provenance: { ...(base.provenance as object), createdAt: new Date().toISOString() },
  };
  // A classifier's decision threshold is not typed by hand: training/cv_report.py chooses it on the
  // out-of-fold calibrated probabilities (training/cv/results.json), and it is in force before the test
  // figures are measured below.
  const cv = manifest.task === 'classification' ? cvEntry(await readCvResults(), name) : null;
  if (cv) manifest.postprocess = { ...manifest.postprocess, decisionThreshold: cv.decisionThreshold.threshold };
  await rm(path.join(dir, 'golden'), { recursive: true, force: true });
  await mkdir(path.join(dir, 'golden'), { recursive: true });
  // a first manifest without metrics or goldens, so the runner can open the folder
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const runner = await PluginRunner.open(dir);
  const ids = await goldenIds();
  const golden: NonNullable<PluginManifest['goldenCases']> = [];
  const goldenLines: string[] = [];
  for (const id of ids) {
    const rel = `golden/${id}.jpg`;
    await copyFile(path.join(DATASET, 'images', `${id}.jpg`), path.join(dir, rel));
    if (manifest.task === 'classification') {
      const probs = (await runner.classify([path.join(dir, rel)]))[0].map((p) => Math.round(p * 1e6) / 1e6);
      golden.push({ image: rel, expected: { probabilities: probs }, tolerance: 0.001 });
      goldenLines.push(
        `- \`${rel}\` (${id}): expected probabilities ${JSON.stringify(probs)} (benign, malignant), tolerance 0.001`,
      );
    } else {
      const { mask, width, height } = await runner.segment(path.join(dir, rel));
      const maskRel = `golden/${id}.mask.png`;
      await writeFile(
        path.join(dir, maskRel),
        await maskPng(mask, width, height, manifest.postprocess.maskThreshold ?? 0.5),
      );
      golden.push({ image: rel, expectedMask: maskRel, minIoU: 0.99 });
      const area = mask.reduce((s, v) => s + (v >= (manifest.postprocess.maskThreshold ?? 0.5) ? 1 : 0), 0);
      goldenLines.push(
        `- \`${rel}\` (${id}): expected mask \`${maskRel}\` (${width}x${height}, ${((100 * area) / (width * height)).toFixed(1)}% lesion), min IoU 0.99`,
      );
    }
  }
  const latency = await measureLatency(runner, path.join(dir, golden[0].image));
  await runner.release();

  const values: Record<string, string> = {
    VERSION: manifest.version,
    GOLDEN: goldenLines.join('\n'),
    MODEL_SIZE_KB: String(Math.round((await stat(path.join(dir, manifest.modelFile))).size / 1024)),
    MODEL_SHA256: await sha256File(path.join(dir, manifest.modelFile)),
    LATENCY: `${latency.modelMs} ms per image for the model alone (batch 1, median of 100 runs), ${latency.batch8PerImageMs} ms per image in batches of 8 (median of 30), ${latency.endToEndMs} ms including JPEG decode, resize and normalisation (median of 30); onnxruntime-node ${ortVersion}, CPU execution provider, 1 intra-op thread, on ${os.cpus()[0]?.model ?? 'an unknown CPU'} (${os.cpus().length} cores shared with other work).`,
  };
  manifest.metrics = {
    cpuLatencyMs: {
      model: latency.modelMs,
      modelPerImageBatch8: latency.batch8PerImageMs,
      endToEnd: latency.endToEndMs,
      threads: 1,
    },
  } as PluginManifest['metrics'];
  if (manifest.task === 'classification') {
    const m = await evaluateClassifier(dir);
    manifest.metrics = { ...manifest.metrics, test: manifestMetricsBlock(m) };
    values.METRICS = renderMetricsTable(m);
    values.TARGET_NOTE =
      m.rocAuc >= 0.8
        ? "This meets the project's target of a test ROC AUC of at least 0.80."
        : `This falls short of the project's target of a test ROC AUC of at least 0.80 (${m.rocAuc.toFixed(4)}; the upper end of the CI reaches ${m.rocAucCi95[1].toFixed(4)}): a network trained from scratch on 256 small thumbnails, with no pretrained weights available.`;
    values.TRAINING = trainingLines(
      JSON.parse(await readFile(path.join('training/.cache', `${name}.train.json`), 'utf8')) as TrainLog,
    );
    values.CV = renderCvTable((await readCvResults()).protocol, cv!);
    values.THRESHOLD = thresholdSentence(cv!.decisionThreshold);
  }
  manifest.goldenCases = golden;
  const card = fillTemplate(await readFile(path.join(src, 'MODEL_CARD.template.md'), 'utf8'), values);
  await writeFile(path.join(dir, 'MODEL_CARD.md'), card);
  const files: Record<string, string> = {};
  for (const f of await listFiles(dir)) if (f !== 'manifest.json') files[f] = await sha256File(path.join(dir, f));
  manifest.files = files;
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(
    `packaged ${dir}: ${Object.keys(files).length} files, latency ${latency.modelMs} ms${manifest.metrics && 'test' in manifest.metrics ? `, test AUC ${(manifest.metrics.test as { rocAuc: number }).rocAuc}` : ''}`,
  );
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names.length ? names : PLUGINS) await packageOne(name);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
