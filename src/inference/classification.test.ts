import { summariseClassification } from './classification';

describe('summariseClassification', () => {
  it('picks the top label and calls malignancy at the threshold', () => {
    const s = summariseClassification([0.4, 0.6], ['benign', 'malignant'], ['malignant'], 0.6);
    expect(s).toMatchObject({ label: 'malignant', confidence: 0.6, malignantProbability: 0.6, malignant: true });
    expect(s.probabilities).toEqual([
      { label: 'benign', probability: 0.4 },
      { label: 'malignant', probability: 0.6 },
    ]);
    expect(summariseClassification([0.41, 0.59], ['benign', 'malignant'], ['malignant'], 0.6).malignant).toBe(false);
  });
  it('sums several malignant labels (a benign top label can still be called malignant)', () => {
    const s = summariseClassification([0.4, 0.3, 0.3], ['nevus', 'melanoma', 'bcc'], ['melanoma', 'bcc'], 0.5);
    expect(s.label).toBe('nevus');
    expect(s.malignantProbability).toBeCloseTo(0.6, 15);
    expect(s.malignant).toBe(true);
  });
  it('refuses a label count that does not match', () => {
    expect(() => summariseClassification([1], ['a', 'b'], [], 0.5)).toThrow(/1 probabilities for 2 labels/);
  });
});
