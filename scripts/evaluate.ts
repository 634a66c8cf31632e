/**
 * `npm run evaluate [-- <plugin>]`: for each shipped classifier (or the one named), prints its
 * cross-validated figures with intervals (training/cv/results.json, written by `npm run train:models`),
 * then runs it on the committed test split through the project's own inference path (preprocess.ts +
 * onnxruntime-node) and prints ROC AUC (with its bootstrap 95% CI), sensitivity, specificity, balanced
 * accuracy and the confusion matrix at the manifest's decisionThreshold, and says whether they equal
 * the manifest's metrics block.
 *
 * <plugin> is a folder, or a name under plugins/. Options: --split test|validation|train,
 * --dataset datasets/isic-uda1, --splits training/splits.json, --cv training/cv/results.json.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { binaryMetrics, type BinaryMetrics } from '../src/inference/evaluation';
import {
  CV_RESULTS,
  cvEntry,
  readCvResults,
  type CvClassifier,
  type CvDecisionThreshold,
  type CvResults,
} from './cv-results';
import { readLabels, readSplits } from './dataset';
import { PluginRunner } from './plugin-runner';

/** Fixed so the CI printed here, written in the manifest and checked by the tests is the same number. */
export const BOOTSTRAP = { iterations: 2000, seed: 20240521, level: 0.95 };

export interface EvaluateOptions {
  split?: 'train' | 'validation' | 'test';
  datasetDir?: string;
  splitsFile?: string;
}

export async function evaluateClassifier(dir: string, opts: EvaluateOptions = {}): Promise<BinaryMetrics> {
  const { split = 'test', datasetDir = 'datasets/isic-uda1', splitsFile = 'training/splits.json' } = opts;
  const runner = await PluginRunner.open(dir);
  try {
    if (runner.manifest.task !== 'classification')
      throw new Error(`${runner.manifest.name} is a ${runner.manifest.task} model, not a classifier`);
    const threshold = runner.manifest.postprocess.decisionThreshold;
    if (threshold === undefined)
      throw new Error(`${runner.manifest.name}: manifest has no postprocess.decisionThreshold`);
    const labels = new Map((await readLabels(datasetDir)).map((r) => [r.id, r.label]));
    const ids = (await readSplits(splitsFile))[split];
    const scores: number[] = [];
    const positives: boolean[] = [];
    for (const id of ids) {
      const label = labels.get(id);
      if (!label) throw new Error(`split id ${id} is not in ${datasetDir}/labels.csv`);
      // one image per run, as a single request is served
      scores.push((await runner.malignantProbability([path.join(datasetDir, 'images', `${id}.jpg`)]))[0]);
      positives.push(label === 'malignant');
    }
    return binaryMetrics(scores, positives, threshold, BOOTSTRAP);
  } finally {
    await runner.release();
  }
}

export function formatMetrics(name: string, split: string, m: BinaryMetrics): string {
  const c = m.confusion;
  return [
    `${name} on the ${split} split (n = ${m.n}, threshold P(malignant) >= ${m.threshold})`,
    `  ROC AUC            ${m.rocAuc.toFixed(4)}  (95% CI ${m.rocAucCi95[0].toFixed(4)} to ${m.rocAucCi95[1].toFixed(4)}, stratified bootstrap, ${BOOTSTRAP.iterations} resamples)`,
    `  sensitivity        ${m.sensitivity.toFixed(4)}`,
    `  specificity        ${m.specificity.toFixed(4)}`,
    `  balanced accuracy  ${m.balancedAccuracy.toFixed(4)}`,
    `  confusion          predicted malignant | predicted benign`,
    `    malignant        TP ${String(c.tp).padStart(3)}            | FN ${String(c.fn).padStart(3)}`,
    `    benign           FP ${String(c.fp).padStart(3)}            | TN ${String(c.tn).padStart(3)}`,
  ].join('\n');
}

/** The cross-validated figures of one classifier, as `npm run evaluate` prints them. */
export function formatCv(name: string, protocol: CvResults['protocol'], c: CvClassifier): string {
  const f = c.current;
  const cal = c.calibration;
  const ci = (v: number, [lo, hi]: [number, number]) =>
    `${v.toFixed(4)}  (95% CI ${lo.toFixed(4)} to ${hi.toFixed(4)})`;
  return [
    `${name}: ${protocol.folds}-fold cross-validation x ${protocol.repeats} repeats on the development pool (out-of-fold; test split untouched)`,
    `  ROC AUC            ${ci(f.rocAuc, f.rocAucCi95)}, per repeat ${f.rocAucPerRepeat.map((a) => a.toFixed(4)).join(', ')}`,
    `  sens. @ 90% spec.  ${f.sensitivityAt90Specificity.toFixed(4)}`,
    `  ECE (10 bins)      ${cal.eceBefore.toFixed(4)} as trained, ${cal.eceAfter.toFixed(4)} after calibration (P = sigmoid(z / ${cal.temperature.toFixed(4)} + ${cal.shift.toFixed(4)}), shipped folded into the last layer; temperature alone ${cal.temperatureOnly.eceAfter.toFixed(4)})`,
    `  threshold          ${thresholdLine(c.decisionThreshold)}`,
  ].join('\n');
}

/** The decision threshold chosen on the out-of-fold predictions, with its out-of-fold sensitivity and specificity. */
export function thresholdLine(d: CvDecisionThreshold): string {
  return `${d.threshold} (largest Youden's J on the out-of-fold calibrated probabilities): sensitivity ${d.sensitivity.toFixed(4)}, specificity ${d.specificity.toFixed(4)}; at 0.5 ${d['at0.5'].sensitivity.toFixed(4)}, ${d['at0.5'].specificity.toFixed(4)}`;
}

/** The keys of a manifest's metrics.test block that a fresh evaluation must reproduce. */
export function manifestMetricsBlock(m: BinaryMetrics): Record<string, unknown> {
  const { rocAuc, rocAucCi95, sensitivity, specificity, balancedAccuracy, n, threshold, confusion } = m;
  return { rocAuc, rocAucCi95, sensitivity, specificity, balancedAccuracy, n, threshold, confusion };
}

/** The classifiers `npm run evaluate` looks at when none is named. */
export const SHIPPED_CLASSIFIERS = ['dg-gap-classifier', 'dg-mlp-classifier'];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const target = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  const opt = (k: string) => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1] : undefined);
  const cvFile = opt('cv') ?? CV_RESULTS;
  const cv = await readCvResults(cvFile);
  for (const t of target ? [target] : SHIPPED_CLASSIFIERS) {
    await evaluateOne(t, opt, cv, cvFile);
    console.log('');
  }
}

async function evaluateOne(
  target: string,
  opt: (k: string) => string | undefined,
  cv: CvResults,
  cvFile: string,
): Promise<void> {
  const dir = existsSync(path.join(target, 'manifest.json')) ? target : path.join('plugins', target);
  const split = (opt('split') ?? 'test') as EvaluateOptions['split'];
  const m = await evaluateClassifier(dir, { split, datasetDir: opt('dataset'), splitsFile: opt('splits') });
  const runner = await PluginRunner.open(dir);
  const name = runner.manifest.name;
  const recorded = runner.manifest.metrics?.test;
  await runner.release();
  console.log(formatCv(name, cv.protocol, cvEntry(cv, name, cvFile)));
  console.log(formatMetrics(name, split ?? 'test', m));
  if (split === 'test' && recorded) {
    const same =
      JSON.stringify(manifestMetricsBlock(m)) ===
      JSON.stringify(manifestMetricsBlock(recorded as unknown as BinaryMetrics));
    console.log(
      same
        ? "  = the manifest's metrics.test block"
        : `  DIFFERS from the manifest's metrics.test: ${JSON.stringify(recorded)}`,
    );
    if (!same) process.exitCode = 2;
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
