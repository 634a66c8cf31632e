import {
  binaryMetrics,
  bootstrapCi,
  confusionAt,
  quantileSorted,
  rates,
  rocAuc,
  round4,
  seededRandom,
} from './evaluation';
import { AppError } from '../infra/errors';

const T = true;
const F = false;

/** O(n^2) definition: pairs where the positive scores higher, ties half. */
function bruteAuc(scores: number[], pos: boolean[]): number {
  let s = 0;
  let pairs = 0;
  scores.forEach((a, i) =>
    scores.forEach((b, j) => {
      if (!pos[i] || pos[j]) return;
      pairs++;
      s += a > b ? 1 : a === b ? 0.5 : 0;
    }),
  );
  return s / pairs;
}

describe('rocAuc', () => {
  it('matches the scikit-learn documentation example (0.75)', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [F, F, T, T])).toBeCloseTo(0.75, 12);
  });
  it('is 1 for perfect ranking, 0 for reversed, 0.5 when all scores tie', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [F, F, T, T])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [F, F, T, T])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [F, T, F, T])).toBe(0.5);
  });
  it('counts a tie between one positive and one negative as half: 2.5 / 4', () => {
    expect(rocAuc([0.2, 0.5, 0.5, 0.9], [F, F, T, T])).toBe(0.875);
  });
  it('agrees with the pairwise definition on random scores with ties', () => {
    const rand = seededRandom(7);
    const scores = Array.from({ length: 200 }, () => Math.round(rand() * 20) / 20);
    const pos = scores.map((s) => rand() < 0.3 + 0.4 * s);
    expect(rocAuc(scores, pos)).toBeCloseTo(bruteAuc(scores, pos), 12);
  });
  it('rejects one-class labels, length mismatches and non-finite scores with BAD_USER_INPUT', () => {
    expect(() => rocAuc([0.1, 0.2], [T, T])).toThrow(AppError);
    expect(() => rocAuc([0.1], [T, F])).toThrow(/2 labels/);
    try {
      rocAuc([NaN, 0.2], [T, F]);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'scores' });
    }
  });
});

describe('confusionAt and rates', () => {
  it('counts a score equal to the threshold as positive', () => {
    expect(confusionAt([0.5, 0.49, 0.7, 0.2], [T, T, F, F], 0.5)).toEqual({ tp: 1, fn: 1, fp: 1, tn: 1 });
  });
  it('gives sensitivity, specificity and balanced accuracy', () => {
    const r = rates({ tp: 8, fn: 2, tn: 45, fp: 5 });
    expect(r.sensitivity).toBeCloseTo(0.8, 12);
    expect(r.specificity).toBeCloseTo(0.9, 12);
    expect(r.balancedAccuracy).toBeCloseTo(0.85, 12);
  });
  it('refuses rates without both classes', () => {
    expect(() => rates({ tp: 0, fn: 0, tn: 3, fp: 1 })).toThrow(/positive/);
    expect(() => rates({ tp: 1, fn: 0, tn: 0, fp: 0 })).toThrow(/negative/);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, differs between seeds, stays in [0, 1) with mean near 1/2', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(Array.from({ length: 10000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe('quantileSorted', () => {
  it('interpolates like numpy.quantile (linear)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantileSorted([10, 20], 0.975)).toBeCloseTo(19.75, 12);
    expect(quantileSorted([7], 0.3)).toBe(7);
    expect(() => quantileSorted([], 0.5)).toThrow(AppError);
    expect(() => quantileSorted([1], 1.5)).toThrow(/\[0, 1\]/);
  });
});

describe('bootstrapCi', () => {
  it('is [1, 1] when the classes never overlap (every resample ranks perfectly)', () => {
    expect(bootstrapCi([0.1, 0.2, 0.3, 0.7, 0.8], [F, F, F, T, T], rocAuc, { iterations: 200 })).toEqual([1, 1]);
  });
  it('is seeded: the same seed repeats, and the interval brackets the point estimate', () => {
    const rand = seededRandom(3);
    const scores = Array.from({ length: 80 }, () => rand());
    const pos = scores.map((s) => rand() < s);
    const ci = bootstrapCi(scores, pos, rocAuc, { iterations: 500, seed: 9 });
    expect(bootstrapCi(scores, pos, rocAuc, { iterations: 500, seed: 9 })).toEqual(ci);
    const auc = rocAuc(scores, pos);
    expect(ci[0]).toBeLessThan(auc);
    expect(ci[1]).toBeGreaterThan(auc);
    expect(ci[1] - ci[0]).toBeLessThan(0.4);
  });
  it('rejects a non-integer iteration count', () => {
    expect(() => bootstrapCi([0.1, 0.9], [F, T], rocAuc, { iterations: 0 })).toThrow(/iterations|positive integer/);
  });
});

describe('binaryMetrics', () => {
  it('puts the figures together, rounded to 4 decimals', () => {
    const m = binaryMetrics([0.1, 0.4, 0.35, 0.8], [F, F, T, T], 0.5, { iterations: 100 });
    expect(m).toMatchObject({
      rocAuc: 0.75,
      n: 4,
      threshold: 0.5,
      confusion: { tp: 1, fn: 1, tn: 2, fp: 0 },
      sensitivity: 0.5,
      specificity: 1,
      balancedAccuracy: 0.75,
    });
    expect(round4(2 / 3)).toBe(0.6667);
  });
});
