import { badInput } from '../infra/errors';

/**
 * Member weights as fractions summing to 1. Clients send raw weights (default 1 each); a
 * negative, non-finite or all-zero set has no meaning as a mixture, so it is refused by field.
 */
export function normaliseWeights(weights: readonly number[], field = 'weight'): number[] {
  if (weights.length === 0) throw badInput(field, 'at least one ensemble member is required');
  let sum = 0;
  weights.forEach((w, i) => {
    if (!Number.isFinite(w)) throw badInput(field, `weight of member ${i} must be a finite number, got ${w}`);
    if (w < 0) throw badInput(field, `weight of member ${i} must be >= 0, got ${w}`);
    sum += w;
  });
  if (!(sum > 0)) throw badInput(field, 'ensemble weights must sum to more than 0');
  return weights.map((w) => w / sum);
}

/** Classification ensemble: the weighted mean of each member's probability vector. */
export function averageProbabilities(members: readonly (readonly number[])[], weights: readonly number[]): number[] {
  const w = normaliseWeights(weights);
  if (members.length !== w.length) throw new Error(`${members.length} members but ${w.length} weights`);
  const k = members[0].length;
  const out = new Array<number>(k).fill(0);
  members.forEach((probs, m) => {
    if (probs.length !== k) throw new Error(`member ${m} has ${probs.length} probabilities, expected ${k}`);
    for (let i = 0; i < k; i++) out[i] += w[m] * probs[i];
  });
  return out;
}

/**
 * The decision threshold of a classification ensemble: the weighted mean of its members' own
 * `postprocess.decisionThreshold`s (0.5 where a manifest has none), with the weights that average the
 * probabilities. One member keeps its own threshold exactly; members of different thresholds meet in
 * between instead of the first member's deciding for all (each threshold is chosen on that model's own
 * calibrated probabilities, docs/models.md).
 */
export function ensembleDecisionThreshold(
  thresholds: readonly (number | undefined)[],
  weights: readonly number[],
): number {
  const w = normaliseWeights(weights);
  if (thresholds.length !== w.length) throw new Error(`${thresholds.length} thresholds but ${w.length} weights`);
  if (w.length === 1) return thresholds[0] ?? 0.5;
  return thresholds.reduce<number>((s, t, i) => s + w[i] * (t ?? 0.5), 0);
}

/** Segmentation ensemble: pixel-wise weighted mean of probability maps already at one size. */
export function weightedMeanMaps(maps: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const w = normaliseWeights(weights);
  if (maps.length !== w.length) throw new Error(`${maps.length} maps but ${w.length} weights`);
  const n = maps[0].length;
  const out = new Float32Array(n);
  maps.forEach((map, m) => {
    if (map.length !== n) throw new Error(`map ${m} has ${map.length} pixels, expected ${n}`);
    for (let i = 0; i < n; i++) out[i] += w[m] * map[i];
  });
  return out;
}

/** Checks a client's probability threshold (0..1 inclusive). */
export function validateThreshold(threshold: number, field = 'threshold'): number {
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw badInput(field, `${field} must be between 0 and 1, got ${threshold}`);
  }
  return threshold;
}

/** Binary mask (1 = lesion) where the probability is at or above the threshold, as the manifest's golden masks are made. */
export function thresholdMap(map: ArrayLike<number>, threshold: number): Uint8Array {
  validateThreshold(threshold);
  const out = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = map[i] >= threshold ? 1 : 0;
  return out;
}
