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
  it('sums several malignant labels; the label is the most probable one on the side of the call', () => {
    const s = summariseClassification([0.4, 0.25, 0.35], ['nevus', 'melanoma', 'bcc'], ['melanoma', 'bcc'], 0.5);
    expect(s.malignantProbability).toBeCloseTo(0.6, 15);
    expect(s).toMatchObject({ malignant: true, label: 'bcc', confidence: 0.35 }); // not nevus, the top label overall
    const benign = summariseClassification(
      [0.2, 0.3, 0.1, 0.4],
      ['nevus', 'sk', 'melanoma', 'bcc'],
      ['melanoma', 'bcc'],
      0.6,
    );
    expect(benign).toMatchObject({ malignant: false, label: 'sk', confidence: 0.3 }); // not bcc, the top label overall
  });
  it('a threshold below 0.5 (a calibrated operating point) calls malignant, and labels it so, below an even split', () => {
    const s = summariseClassification([0.64, 0.36], ['benign', 'malignant'], ['malignant'], 0.31);
    expect(s).toMatchObject({ label: 'malignant', confidence: 0.36, malignant: true });
    expect(summariseClassification([0.7, 0.3], ['benign', 'malignant'], ['malignant'], 0.31)).toMatchObject({
      label: 'benign',
      confidence: 0.7,
      malignant: false,
    });
  });
  it('a model without malignant labels: the top label, never a malignant call', () => {
    expect(summariseClassification([0.2, 0.8], ['a', 'b'], [], 0.5)).toMatchObject({ label: 'b', malignant: false });
  });
  it('refuses a label count that does not match', () => {
    expect(() => summariseClassification([1], ['a', 'b'], [], 0.5)).toThrow(/1 probabilities for 2 labels/);
  });
});
