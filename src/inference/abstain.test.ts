import { abstention } from './abstain';

describe('abstention', () => {
  it.each([
    // [P(malignant), threshold, margin, flags]
    [0.55, 0.5, 0.1, ['LOW_MARGIN']], // 0.05 from the threshold
    [0.25, 0.5, 0.25, []], // exactly the margin away: strict, so it stands
    [0.26, 0.5, 0.25, ['LOW_MARGIN']],
    [0.9, 0.5, 0.1, []],
    [0.5, 0.5, 0, []], // margin 0 never abstains, even on the threshold
    [0.02, 0.5, 0.5, ['LOW_MARGIN']],
    [0.35, 0.3, 0.1, ['LOW_MARGIN']], // the model's own threshold counts
  ])('P %p, threshold %p, margin %p -> %j', (p, thr, margin, flags) => {
    const a = abstention(p as number, thr as number, margin as number, []);
    expect(a.flags).toEqual(flags);
    expect(a.abstained).toBe((flags as string[]).length > 0);
    expect(a.decisionMargin).toBeCloseTo(Math.abs((p as number) - (thr as number)), 12);
  });

  it('puts LOW_MARGIN first, then the quality reasons; a quality reason alone abstains', () => {
    expect(abstention(0.52, 0.5, 0.1, ['BLURRED', 'NOT_DERMOSCOPY_LIKE']).flags).toEqual([
      'LOW_MARGIN',
      'BLURRED',
      'NOT_DERMOSCOPY_LIKE',
    ]);
    expect(abstention(0.95, 0.5, 0.1, ['OVER_EXPOSED'])).toEqual({
      decisionMargin: expect.closeTo(0.45, 12),
      flags: ['OVER_EXPOSED'],
      abstained: true,
    });
  });
});
