import { activate, argmax, sigmoid, softmax } from './softmax';

describe('softmax', () => {
  it('matches hand-computed values', () => {
    // e^0, e^1, e^2 over their sum 1 + e + e^2 = 11.107337927...
    const p = softmax([0, 1, 2]);
    expect(p[0]).toBeCloseTo(0.09003057317038046, 15);
    expect(p[1]).toBeCloseTo(0.24472847105479767, 15);
    expect(p[2]).toBeCloseTo(0.6652409557748219, 15);
  });

  it('is stable for huge logits and sums to 1', () => {
    const p = softmax([1000, 1000, -1000]);
    expect(p).toEqual([0.5, 0.5, 0]);
    expect(softmax([-1e308, 0])).toEqual([0, 1]);
  });

  it('is shift invariant', () => {
    const a = softmax([1, 2, 3]);
    const b = softmax([101, 102, 103]);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 12));
  });

  it('returns [] for no logits', () => expect(softmax([])).toEqual([]));
});

describe('sigmoid', () => {
  it('matches known values and never overflows', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2)).toBeCloseTo(0.8807970779778823, 15);
    expect(sigmoid(-2)).toBeCloseTo(0.11920292202211755, 15);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(Number.isNaN(sigmoid(-1000))).toBe(false);
  });
});

describe('activate / argmax', () => {
  it('applies the manifest activation', () => {
    expect(activate([0, 0], 'softmax')).toEqual([0.5, 0.5]);
    expect(activate([0, 0], 'sigmoid')).toEqual([0.5, 0.5]);
    expect(activate(new Float32Array([3, -1]), 'none')).toEqual([3, -1]);
  });
  it('picks the first maximum', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([])).toBe(-1);
  });
});
