/** Pure output activations used by golden cases and post-processing. */

/** Numerically stable softmax of one row of logits. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function sigmoid(x: number): number {
  // Split by sign so exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export type Activation = 'softmax' | 'sigmoid' | 'none';

/** Applies a manifest's activation to one row (softmax) or element-wise (sigmoid, none). */
export function activate(values: ArrayLike<number>, activation: Activation): number[] {
  if (activation === 'softmax') return softmax(values);
  if (activation === 'sigmoid') return Array.from(values, sigmoid);
  return Array.from(values);
}
