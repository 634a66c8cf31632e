/** Output activations named by a manifest's `postprocess.activation`. */
export type Activation = 'softmax' | 'sigmoid' | 'none';

/** Softmax, shifted by the max so large logits cannot overflow exp(). */
export function softmax(logits: ArrayLike<number>): number[] {
  const n = logits.length;
  if (n === 0) return [];
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  const out = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/** Logistic function, written in the two forms that never take exp() of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Applies a manifest's activation to one image's outputs. */
export function activate(values: ArrayLike<number>, activation: Activation): number[] {
  if (activation === 'softmax') return softmax(values);
  if (activation === 'sigmoid') return Array.from(values, sigmoid);
  return Array.from(values);
}

/** Index of the largest value (first one on ties); -1 for an empty input. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || values[i] > values[best]) best = i;
  return best;
}
