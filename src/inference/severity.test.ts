import { AppError } from '../infra/errors';
import { maskMetrics } from './mask-metrics';
import { severity, severityReason, storedSeverityReason, validateSeverityThresholds } from './severity';

const t = { smallAreaPercent: 5, largeAreaPercent: 25, highCircularity: 0.7, lowCircularity: 0.4 };
/** The configuration's defaults (SEVERITY_* in src/infra/config/env.ts). */
const configDefaults = { smallAreaPercent: 5, largeAreaPercent: 20, highCircularity: 0.75, lowCircularity: 0.45 };

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

  it.each([
    // Each cut point exactly, and a hair either side, with the configuration's defaults (README's table).
    [5, 0.9, 'MODERATE'], // areaPercent < 5 is small: 5 is not
    [4.9999, 0.9, 'LOW'],
    [20, 0.9, 'HIGH'], // areaPercent >= 20 is large
    [19.9999, 0.9, 'MODERATE'],
    [3, 0.75, 'LOW'], // circularity >= 0.75 is regular
    [3, 0.7499, 'MODERATE'],
    [3, 0.45, 'MODERATE'], // circularity < 0.45 is irregular: 0.45 is not
    [3, 0.4499, 'HIGH'],
    [4.9999, 0.4499, 'HIGH'], // HIGH is checked before LOW
  ])('with the config defaults: area %p%%, circularity %p -> %s', (area, circ, want) => {
    expect(severity(area as number, circ as number, configDefaults)).toBe(want);
  });

  it('grades the lesion, not its fragments: a disc with two edge slivers stays LOW', () => {
    // A disc of radius 20 at the centre of 240x200 and two 2x80 slivers on the left and right edges
    // (a vignette's arcs, say), far from it and from each other.
    const [w, h] = [240, 200];
    const disc = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if ((x - 120) ** 2 + (y - 100) ** 2 <= 400) disc[y * w + x] = 1;
    const withSlivers = Uint8Array.from(disc);
    for (let y = 60; y < 140; y++) for (const x of [0, 1, w - 2, w - 1]) withSlivers[y * w + x] = 1;
    const grey = new Uint8Array(w * h);
    const alone = maskMetrics(disc, w, h, grey);
    const m = maskMetrics(withSlivers, w, h, grey);
    expect(m.componentCount).toBe(3);
    expect(m.circularity).toBe(alone.circularity); // the disc's own figure, exactly
    expect(m.circularity).toBeGreaterThan(0.85);
    expect(m.allPiecesCircularity).toBeLessThan(0.45);
    expect(m.areaPercent).toBeLessThan(5);
    expect(severity(m.areaPercent, m.circularity, configDefaults)).toBe('LOW');
    // Graded on all pieces together (the seed's figure) it would read as an irregular border.
    expect(severity(m.areaPercent, m.allPiecesCircularity, configDefaults)).toBe('HIGH');
  });

  it('accepts the configuration defaults', () => {
    expect(validateSeverityThresholds(configDefaults)).toBe(configDefaults);
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

  it.each([
    [0, 0, 'The mask is empty: nothing to grade'],
    [20, 0.9, 'Area 20.00 % ≥ 20 % (a large lesion)'],
    [10, 0.44, 'Circularity 0.440 < 0.45 (an irregular border)'],
    [4.5, 0.75, 'Area 4.50 % < 5 % and circularity 0.750 ≥ 0.75 (small and regular)'],
    [5, 0.9, 'Neither HIGH (area ≥ 20 % or circularity < 0.45) nor LOW (area < 5 % and circularity ≥ 0.75)'],
  ])('says why: area %p%%, circularity %p -> %s', (area, circ, want) => {
    expect(severityReason(area as number, circ as number, configDefaults)).toBe(want);
  });

  it('says when a stored grade was made under other cut points', () => {
    expect(storedSeverityReason('LOW', 4.5, 0.8, configDefaults)).toBe(
      'Area 4.50 % < 5 % and circularity 0.800 ≥ 0.75 (small and regular)',
    );
    // Graded when the small-area cut was 10 %: the cut points now give MODERATE.
    expect(storedSeverityReason('LOW', 8, 0.8, configDefaults)).toBe(
      'Graded LOW under the cut points in force when it ran; those in force now give MODERATE: ' +
        'Neither HIGH (area ≥ 20 % or circularity < 0.45) nor LOW (area < 5 % and circularity ≥ 0.75)',
    );
  });
});
