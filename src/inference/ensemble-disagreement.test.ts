import { memberDisagreement } from './ensemble-disagreement';

describe('memberDisagreement', () => {
  it('is null with one member (nothing to disagree with)', () => {
    expect(memberDisagreement([{ weight: 1, malignantProbability: 0.7, label: 'malignant' }])).toBeNull();
    expect(memberDisagreement([])).toBeNull();
  });

  it('two equal members at 0.2 and 0.8: spread 0.6, standard deviation 0.3, labels differ', () => {
    const d = memberDisagreement([
      { weight: 0.5, malignantProbability: 0.2, label: 'benign' },
      { weight: 0.5, malignantProbability: 0.8, label: 'malignant' },
    ])!;
    expect(d.malignantProbabilitySpread).toBeCloseTo(0.6, 12);
    expect(d.malignantProbabilityStdDev).toBeCloseTo(0.3, 12);
    expect(d.labelsDisagree).toBe(true);
  });

  it('weights 3:1 at 0.2 and 0.8: weighted mean 0.35, variance 0.0675 (raw weights are normalised)', () => {
    const d = memberDisagreement([
      { weight: 3, malignantProbability: 0.2, label: 'benign' },
      { weight: 1, malignantProbability: 0.8, label: 'benign' },
    ])!;
    // 0.75 * 0.15^2 + 0.25 * 0.45^2 = 0.016875 + 0.050625
    expect(d.malignantProbabilityStdDev).toBeCloseTo(Math.sqrt(0.0675), 12);
    expect(d.malignantProbabilitySpread).toBeCloseTo(0.6, 12);
    expect(d.labelsDisagree).toBe(false);
  });

  it('members that agree exactly: 0 spread and 0 deviation', () => {
    const v = { weight: 1, malignantProbability: 0.42, label: 'nevus' };
    expect(memberDisagreement([v, v, v])).toEqual({
      malignantProbabilitySpread: 0,
      malignantProbabilityStdDev: 0,
      labelsDisagree: false,
    });
  });

  it('three members: spread is max - min; the deviation is over all of them', () => {
    const d = memberDisagreement([
      { weight: 1, malignantProbability: 0.1, label: 'a' },
      { weight: 1, malignantProbability: 0.4, label: 'a' },
      { weight: 1, malignantProbability: 0.7, label: 'b' },
    ])!;
    expect(d.malignantProbabilitySpread).toBeCloseTo(0.6, 12);
    // mean 0.4; variance (0.09 + 0 + 0.09) / 3 = 0.06
    expect(d.malignantProbabilityStdDev).toBeCloseTo(Math.sqrt(0.06), 12);
    expect(d.labelsDisagree).toBe(true);
  });

  it('refuses weights that do not sum to more than 0', () => {
    const v = { weight: 0, malignantProbability: 0.5, label: 'a' };
    expect(() => memberDisagreement([v, v])).toThrow(/sum to more than 0/);
  });
});
