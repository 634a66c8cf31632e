/**
 * Pure metric math for binary (benign / malignant) classifiers: ROC AUC, the confusion matrix at a
 * threshold, sensitivity / specificity / balanced accuracy, and a seeded stratified bootstrap CI.
 * Used by `npm run evaluate` and by the tests that keep model cards honest. Inputs the math cannot
 * use throw badInput (BAD_USER_INPUT) naming the field.
 */
import { badInput } from '../infra/errors';

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BinaryMetrics {
  rocAuc: number;
  rocAucCi95: [number, number];
  sensitivity: number;
  specificity: number;
  balancedAccuracy: number;
  n: number;
  threshold: number;
  confusion: Confusion;
}

function checkInputs(scores: readonly number[], positives: readonly boolean[]): void {
  if (scores.length !== positives.length) {
    throw badInput('scores', `got ${scores.length} scores for ${positives.length} labels`);
  }
  const bad = scores.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) throw badInput('scores', `score ${bad} is not a finite number: ${scores[bad]}`);
}

/**
 * Area under the ROC curve as the Mann-Whitney statistic: the probability that a random positive
 * scores above a random negative, ties counted half (equal to the trapezoidal ROC area).
 * Sorting makes it O(n log n).
 */
export function rocAuc(scores: readonly number[], positives: readonly boolean[]): number {
  checkInputs(scores, positives);
  const nPos = positives.filter(Boolean).length;
  const nNeg = positives.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw badInput('labels', `ROC AUC needs both classes; got ${nPos} positive and ${nNeg} negative`);
  }
  const order = scores.map((s, i) => i).sort((a, b) => scores[a] - scores[b]);
  // Sum of positive ranks with ties given their average rank (1-based).
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positives[order[k]]) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Confusion matrix when a score at or above `threshold` predicts positive (malignant). */
export function confusionAt(scores: readonly number[], positives: readonly boolean[], threshold: number): Confusion {
  checkInputs(scores, positives);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  scores.forEach((s, i) => {
    const predicted = s >= threshold;
    if (predicted && positives[i]) c.tp++;
    else if (predicted) c.fp++;
    else if (positives[i]) c.fn++;
    else c.tn++;
  });
  return c;
}

export function rates(c: Confusion): { sensitivity: number; specificity: number; balancedAccuracy: number } {
  if (c.tp + c.fn === 0) throw badInput('labels', 'sensitivity needs at least one positive');
  if (c.tn + c.fp === 0) throw badInput('labels', 'specificity needs at least one negative');
  const sensitivity = c.tp / (c.tp + c.fn);
  const specificity = c.tn / (c.tn + c.fp);
  return { sensitivity, specificity, balancedAccuracy: (sensitivity + specificity) / 2 };
}

/** mulberry32: a tiny seeded PRNG with uniform floats in [0, 1); the same seed gives the same CI everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile of sorted values with linear interpolation between order statistics (R type 7, numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw badInput('values', 'quantile of an empty list');
  if (!(q >= 0 && q <= 1)) throw badInput('q', `quantile must be in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  iterations?: number;
  seed?: number;
  /** Two-sided confidence level, e.g. 0.95. */
  level?: number;
}

/**
 * Percentile bootstrap CI of a statistic, resampling with replacement within each class so every
 * resample keeps the class counts (an AUC is defined for each one).
 */
export function bootstrapCi(
  scores: readonly number[],
  positives: readonly boolean[],
  statistic: (s: number[], p: boolean[]) => number,
  { iterations = 2000, seed = 1, level = 0.95 }: BootstrapOptions = {},
): [number, number] {
  checkInputs(scores, positives);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw badInput('iterations', `must be a positive integer, got ${iterations}`);
  const rand = seededRandom(seed);
  const pos = scores.filter((_, i) => positives[i]);
  const neg = scores.filter((_, i) => !positives[i]);
  const labels = [...pos.map(() => true), ...neg.map(() => false)];
  const draw = (from: number[]) => from.map(() => from[Math.floor(rand() * from.length)]);
  const stats: number[] = [];
  for (let b = 0; b < iterations; b++) stats.push(statistic([...draw(pos), ...draw(neg)], labels));
  stats.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return [quantileSorted(stats, tail), quantileSorted(stats, 1 - tail)];
}

/** Rounds for manifests and model cards, so the file, the card and a fresh evaluation compare exactly. */
export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** All the test-set figures a model card reports, rounded to 4 decimals. */
export function binaryMetrics(
  scores: readonly number[],
  positives: readonly boolean[],
  threshold: number,
  bootstrap: BootstrapOptions = {},
): BinaryMetrics {
  const confusion = confusionAt(scores, positives, threshold);
  const r = rates(confusion);
  const ci = bootstrapCi(scores, positives, rocAuc, bootstrap);
  return {
    rocAuc: round4(rocAuc(scores, positives)),
    rocAucCi95: [round4(ci[0]), round4(ci[1])],
    sensitivity: round4(r.sensitivity),
    specificity: round4(r.specificity),
    balancedAccuracy: round4(r.balancedAccuracy),
    n: scores.length,
    threshold,
    confusion,
  };
}
