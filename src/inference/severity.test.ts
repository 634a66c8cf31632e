import { AppError } from '../infra/errors';
import { DEFAULT_SEVERITY_THRESHOLDS, severity, validateSeverityThresholds } from './severity';

const t = { smallAreaPercent: 5, largeAreaPercent: 25, highCircularity: 0.7, lowCircularity: 0.4 };

describe('severity', () => {
  it.each([
    // [areaPercent, circularity, expected]
    [4.999, 0.7, 'LOW'], // small and exactly high circularity
    [5, 0.9, 'MODERATE'], // area at the small cut is no longer small
    [4.999, 0.6999, 'MODERATE'], // just below high circularity
    [24.999, 0.5, 'MODERATE'],
    [25, 0.95, 'HIGH'], // large area alone
    [1, 0.3999, 'HIGH'], // low circularity alone
    [1, 0.4, 'MODERATE'], // exactly at the low cut is not low (and below the high one)
    [30, 0.1, 'HIGH'],
    [0, 0, 'LOW'], // empty mask
  ])('area %p%%, circularity %p -> %s', (area, circ, want) => {
    expect(severity(area as number, circ as number, t)).toBe(want);
  });

  it('follows thresholds passed in', () => {
    expect(severity(8, 0.8, t)).toBe('MODERATE');
    expect(severity(8, 0.8, { ...t, smallAreaPercent: 10 })).toBe('LOW');
    expect(severity(8, 0.8, { ...t, largeAreaPercent: 8 })).toBe('HIGH');
  });

  it('has valid defaults', () => {
    expect(validateSeverityThresholds(DEFAULT_SEVERITY_THRESHOLDS)).toBe(DEFAULT_SEVERITY_THRESHOLDS);
  });

  it.each([
    [{ ...t, smallAreaPercent: 30 }, 'severityThresholds.smallAreaPercent'],
    [{ ...t, lowCircularity: 0.8 }, 'severityThresholds.lowCircularity'],
    [{ ...t, highCircularity: 1.5 }, 'severityThresholds.highCircularity'],
    [{ ...t, largeAreaPercent: Number.NaN }, 'severityThresholds.largeAreaPercent'],
  ])('refuses inconsistent thresholds %p', (bad, field) => {
    try {
      validateSeverityThresholds(bad);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).extensions.field).toBe(field);
    }
  });
});
