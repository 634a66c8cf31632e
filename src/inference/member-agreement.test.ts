import { meanPairwiseDice } from './member-agreement';

describe('meanPairwiseDice', () => {
  it('averages Dice over every pair', () => {
    const a = [1, 1, 0, 0];
    const b = [1, 0, 0, 0];
    const c = [0, 0, 1, 1];
    // Dice(a, b) = 2/3, Dice(a, c) = 0, Dice(b, c) = 0: mean 2/9.
    expect(meanPairwiseDice([a, b, c])).toBeCloseTo(2 / 9, 15);
    expect(meanPairwiseDice([a, b])).toBeCloseTo(2 / 3, 15);
    expect(meanPairwiseDice([a, a])).toBe(1);
  });

  it('is null with fewer than two members', () => {
    expect(meanPairwiseDice([[1, 0]])).toBeNull();
    expect(meanPairwiseDice([])).toBeNull();
  });
});
