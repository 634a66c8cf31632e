import { AppError } from '../infra/errors';
import { ensembleSegmentation, memberProbabilityMap } from './segmentation-maps';

describe('memberProbabilityMap', () => {
  it('applies sigmoid, clamps raw probabilities and keeps the size when equal', () => {
    expect(
      Array.from(
        memberProbabilityMap({ output: [0, 100, -1000, 2], width: 2, height: 2, activation: 'sigmoid' }, 2, 2),
      ),
    ).toEqual([0.5, 1, 0, Math.fround(0.8807970779778823)]);
    expect(
      Array.from(
        memberProbabilityMap({ output: [-0.5, 1.5, 0.25, Number.NaN], width: 2, height: 2, activation: 'none' }, 2, 2),
      ),
    ).toEqual([0, 1, 0.25, 0]);
  });
  it('resizes bilinearly to the image', () => {
    // 1x2 [0, 1] -> 4x1: centres at 0.25, 0.75 of the input pixels: [0, 0.25, 0.75, 1]
    expect(Array.from(memberProbabilityMap({ output: [0, 1], width: 2, height: 1, activation: 'none' }, 4, 1))).toEqual(
      [0, 0.25, 0.75, 1],
    );
  });
  it('lays a cover-cropped output on its crop, background outside', () => {
    const fit = { mode: 'cover' as const, modelWidth: 1, modelHeight: 1 };
    expect(
      Array.from(memberProbabilityMap({ output: [0.8], width: 1, height: 1, activation: 'none', fit }, 4, 2)),
    ).toEqual([0, 0.8, 0.8, 0, 0, 0.8, 0.8, 0].map(Math.fround));
  });
});

describe('ensembleSegmentation', () => {
  it('weights members at the image size and thresholds', () => {
    const a = { output: [1, 1, 0, 0], width: 2, height: 2, activation: 'none' as const };
    const b = { output: [1, 0, 1, 0], width: 2, height: 2, activation: 'none' as const };
    const r = ensembleSegmentation([a, b], [3, 1], 0.5, 2, 2);
    expect(Array.from(r.probability)).toEqual([1, 0.75, 0.25, 0]);
    expect(Array.from(r.mask)).toEqual([1, 1, 0, 0]);
    expect(Array.from(ensembleSegmentation([a, b], [1, 3], 0.5, 2, 2).mask)).toEqual([1, 0, 1, 0]);
  });
  it('refuses bad thresholds and weights', () => {
    const a = { output: [1], width: 1, height: 1, activation: 'none' as const };
    expect(() => ensembleSegmentation([a], [1], 1.5, 1, 1)).toThrow(AppError);
    expect(() => ensembleSegmentation([a, a], [0, 0], 0.5, 1, 1)).toThrow(/sum to more than 0/);
    expect(() => ensembleSegmentation([a, a], [-1, 2], 0.5, 1, 1)).toThrow(/>= 0/);
  });
});
