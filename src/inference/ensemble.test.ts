import {
  averageProbabilities,
  ensembleDecisionThreshold,
  normaliseWeights,
  thresholdMap,
  validateThreshold,
  weightedMeanMaps,
} from './ensemble';
import { AppError } from '../infra/errors';

function inputError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

describe('normaliseWeights', () => {
  it('divides by the sum', () => {
    expect(normaliseWeights([1, 3])).toEqual([0.25, 0.75]);
    expect(normaliseWeights([0, 2])).toEqual([0, 1]);
  });

  it.each([
    [[-1, 2], /must be >= 0/],
    [[0, 0], /sum to more than 0/],
    [[Number.NaN, 1], /finite/],
    [[Number.POSITIVE_INFINITY, 1], /finite/],
    [[], /at least one/],
  ])('refuses %p with BAD_USER_INPUT naming the field', (weights, message) => {
    const e = inputError(() => normaliseWeights(weights as number[], 'members.weight'));
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e.extensions.field).toBe('members.weight');
    expect(e.message).toMatch(message);
  });
});

describe('averageProbabilities', () => {
  it('weights each member', () => {
    // 0.25*[0.2,0.8] + 0.75*[0.6,0.4] = [0.5, 0.5]
    const p = averageProbabilities(
      [
        [0.2, 0.8],
        [0.6, 0.4],
      ],
      [1, 3],
    );
    expect(p[0]).toBeCloseTo(0.5, 15);
    expect(p[1]).toBeCloseTo(0.5, 15);
  });
  it('refuses members of different lengths', () => {
    expect(() => averageProbabilities([[0.5, 0.5], [1]], [1, 1])).toThrow(/member 1/);
  });
});

describe('weightedMeanMaps and thresholdMap', () => {
  it('averages maps pixel by pixel and thresholds at >=', () => {
    const mean = weightedMeanMaps([new Float32Array([0, 1, 0.5, 1]), new Float32Array([1, 1, 0.5, 0])], [3, 1]);
    expect(Array.from(mean)).toEqual([0.25, 1, 0.5, 0.75]);
    expect(Array.from(thresholdMap(mean, 0.5))).toEqual([0, 1, 1, 1]);
    expect(Array.from(thresholdMap(mean, 1))).toEqual([0, 1, 0, 0]);
    expect(Array.from(thresholdMap(mean, 0))).toEqual([1, 1, 1, 1]);
  });
  it('refuses a threshold outside 0..1', () => {
    for (const t of [-0.01, 1.01, Number.NaN]) {
      const e = inputError(() => validateThreshold(t));
      expect(e.extensions.field).toBe('threshold');
    }
  });
});

describe('ensembleDecisionThreshold', () => {
  it('is one member’s own threshold, else the weighted mean of the members’ (0.5 where none is given)', () => {
    expect(ensembleDecisionThreshold([0.31], [1])).toBe(0.31);
    expect(ensembleDecisionThreshold([0.31, 0.33], [1, 1])).toBeCloseTo(0.32, 12);
    expect(ensembleDecisionThreshold([0.3, 0.5], [3, 1])).toBeCloseTo(0.35, 12);
    expect(ensembleDecisionThreshold([undefined, 0.3], [1, 1])).toBeCloseTo(0.4, 12);
    expect(ensembleDecisionThreshold([undefined], [2])).toBe(0.5);
  });

  it('refuses weights that do not match the thresholds', () => {
    expect(() => ensembleDecisionThreshold([0.3, 0.4], [1])).toThrow(/2 thresholds but 1 weights/);
  });
});
