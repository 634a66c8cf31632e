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

const pct = (n: number): string => `${n.toFixed(2)} %`;

/**
 * The condition of `severity` that decided the grade, in words, with the figures and cut points; what
 * clients show beside a grade (Segmentation.severityReason) so no client keeps its own copy of the table.
 */
export function severityReason(areaPercent: number, circularity: number, t: SeverityThresholds): string {
  const c = circularity.toFixed(3);
  if (areaPercent === 0) return 'The mask is empty: nothing to grade';
  if (areaPercent >= t.largeAreaPercent) return `Area ${pct(areaPercent)} ≥ ${t.largeAreaPercent} % (a large lesion)`;
  if (circularity < t.lowCircularity) return `Circularity ${c} < ${t.lowCircularity} (an irregular border)`;
  if (areaPercent < t.smallAreaPercent && circularity >= t.highCircularity)
    return `Area ${pct(areaPercent)} < ${t.smallAreaPercent} % and circularity ${c} ≥ ${t.highCircularity} (small and regular)`;
  return (
    `Neither HIGH (area ≥ ${t.largeAreaPercent} % or circularity < ${t.lowCircularity}) ` +
    `nor LOW (area < ${t.smallAreaPercent} % and circularity ≥ ${t.highCircularity})`
  );
}

/**
 * The reason for a stored grade under the cut points in force now: severityReason when they give that
 * grade, else a sentence that says the grade was made under other cut points (SEVERITY_* changed since).
 */
export function storedSeverityReason(
  stored: Severity,
  areaPercent: number,
  circularity: number,
  t: SeverityThresholds,
): string {
  const now = severity(areaPercent, circularity, t);
  const reason = severityReason(areaPercent, circularity, t);
  return now === stored
    ? reason
    : `Graded ${stored} under the cut points in force when it ran; those in force now give ${now}: ${reason}`;
}
