import { badInput } from '../infra/errors';

export type Severity = 'LOW' | 'MODERATE' | 'HIGH';

/**
 * Cut points of the severity table (docs/inference.md, "Severity"). Area is in % of the whole image; circularity is
 * the lesion's (its largest component's) 4*pi*A/P^2 with skimage's perimeter (a digital disk scores about 0.9, a
 * 5-point star about 0.2). There are no defaults here: the configuration (SEVERITY_*) is their one home.
 */
export interface SeverityThresholds {
  /** "small area": areaPercent below this. */
  smallAreaPercent: number;
  /** "large area": areaPercent at or above this. */
  largeAreaPercent: number;
  /** "high circularity": circularity at or above this. */
  highCircularity: number;
  /** "low circularity": circularity below this. */
  lowCircularity: number;
}

/** Refuses thresholds that would let LOW and HIGH overlap or fall outside their scales. */
export function validateSeverityThresholds(t: SeverityThresholds, field = 'severityThresholds'): SeverityThresholds {
  const inRange = (name: keyof SeverityThresholds, max: number) => {
    const v = t[name];
    if (!Number.isFinite(v) || v < 0 || v > max)
      throw badInput(`${field}.${name}`, `${name} must be between 0 and ${max}, got ${v}`);
  };
  inRange('smallAreaPercent', 100);
  inRange('largeAreaPercent', 100);
  inRange('highCircularity', 1);
  inRange('lowCircularity', 1);
  if (t.smallAreaPercent > t.largeAreaPercent)
    throw badInput(`${field}.smallAreaPercent`, 'smallAreaPercent must not exceed largeAreaPercent');
  if (t.lowCircularity > t.highCircularity)
    throw badInput(`${field}.lowCircularity`, 'lowCircularity must not exceed highCircularity');
  return t;
}

/**
 * Checked in this order: an empty mask (nothing segmented) is LOW, as there is no lesion to grade and
 * its circularity of 0 must not read as "irregular"; HIGH when areaPercent >= largeAreaPercent or
 * circularity < lowCircularity; LOW when areaPercent < smallAreaPercent and circularity >= highCircularity;
 * MODERATE otherwise. `circularity` is the main component's (MaskMetrics.circularity).
 */
export function severity(areaPercent: number, circularity: number, thresholds: SeverityThresholds): Severity {
  if (areaPercent === 0) return 'LOW';
  if (areaPercent >= thresholds.largeAreaPercent || circularity < thresholds.lowCircularity) return 'HIGH';
  if (areaPercent < thresholds.smallAreaPercent && circularity >= thresholds.highCircularity) return 'LOW';
  return 'MODERATE';
}
