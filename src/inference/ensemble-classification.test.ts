import { classifyWithMembers } from './ensemble-classification';

const LABELS = ['benign', 'malignant'];

describe('classifyWithMembers', () => {
  it('two members that disagree: the average, each member’s own answer, and their spread', () => {
    const r = classifyWithMembers(
      [
        [0.9, 0.1],
        [0.3, 0.7],
      ],
      [1, 1],
      LABELS,
      ['malignant'],
      0.5,
    );
    expect(r.summary.label).toBe('benign');
    expect(r.summary.malignantProbability).toBeCloseTo(0.4, 12);
    expect(r.summary.malignant).toBe(false);
    expect(r.members).toEqual([
      {
        label: 'benign',
        confidence: 0.9,
        malignantProbability: 0.1,
        probabilities: [
          { label: 'benign', probability: 0.9 },
          { label: 'malignant', probability: 0.1 },
        ],
      },
      {
        label: 'malignant',
        confidence: 0.7,
        malignantProbability: 0.7,
        probabilities: [
          { label: 'benign', probability: 0.3 },
          { label: 'malignant', probability: 0.7 },
        ],
      },
    ]);
    expect(r.disagreement!.malignantProbabilitySpread).toBeCloseTo(0.6, 12);
    expect(r.disagreement!.malignantProbabilityStdDev).toBeCloseTo(0.3, 12);
    expect(r.disagreement!.labelsDisagree).toBe(true);
  });

  it('weights 3:1 pull the average and the deviation toward the heavier member', () => {
    const r = classifyWithMembers(
      [
        [0.8, 0.2],
        [0.2, 0.8],
      ],
      [0.75, 0.25],
      LABELS,
      ['malignant'],
      0.5,
    );
    expect(r.summary.malignantProbability).toBeCloseTo(0.35, 12);
    expect(r.disagreement!.malignantProbabilityStdDev).toBeCloseTo(Math.sqrt(0.0675), 12);
  });

  it('one member: its own answer is the ensemble’s and there is no disagreement', () => {
    const r = classifyWithMembers([[0.25, 0.75]], [1], LABELS, ['malignant'], 0.5);
    const { malignant: _call, ...ensemble } = r.summary;
    expect(r.members[0]).toEqual(ensemble);
    expect(r.members[0].malignantProbability).toBe(0.75);
    expect(r.disagreement).toBeNull();
  });
});
