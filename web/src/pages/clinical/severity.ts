// The rule that graded a segmentation, in words. The server records only the grade; the cut points are the
// documented defaults (docs/inference.md, "Severity"), checked in the server's order, so the sentence names
// the condition that decided. A deployment that changed SEVERITY_* may grade differently: the grade shown
// is always the server's, and the sentence says when it does not follow from the default cut points.
export const SEVERITY_DEFAULTS = {
  smallAreaPercent: 5,
  largeAreaPercent: 20,
  highCircularity: 0.75,
  lowCircularity: 0.45,
} as const;

export type SeverityGrade = 'LOW' | 'MODERATE' | 'HIGH';

export interface SeverityRule {
  grade: SeverityGrade;
  rule: string;
}

const pct = (n: number): string => `${n.toFixed(2)} %`;

/** The grade the default cut points give, and the rule that gave it. */
export function severityRule(areaPercent: number, circularity: number, t = SEVERITY_DEFAULTS): SeverityRule {
  if (areaPercent === 0) return { grade: 'LOW', rule: 'The mask is empty: nothing to grade' };
  if (areaPercent >= t.largeAreaPercent) {
    return { grade: 'HIGH', rule: `Area ${pct(areaPercent)} ≥ ${t.largeAreaPercent} % (a large lesion)` };
  }
  if (circularity < t.lowCircularity) {
    return {
      grade: 'HIGH',
      rule: `Circularity ${circularity.toFixed(3)} < ${t.lowCircularity} (an irregular border)`,
    };
  }
  if (areaPercent < t.smallAreaPercent && circularity >= t.highCircularity) {
    return {
      grade: 'LOW',
      rule: `Area ${pct(areaPercent)} < ${t.smallAreaPercent} % and circularity ${circularity.toFixed(3)} ≥ ${t.highCircularity} (small and regular)`,
    };
  }
  return {
    grade: 'MODERATE',
    rule: `Neither HIGH (area ≥ ${t.largeAreaPercent} % or circularity < ${t.lowCircularity}) nor LOW (area < ${t.smallAreaPercent} % and circularity ≥ ${t.highCircularity})`,
  };
}

/** The sentence shown beside the server's grade. */
export function explainSeverity(severity: string, areaPercent: number, circularity: number): string {
  const r = severityRule(areaPercent, circularity);
  if (r.grade === severity) return r.rule;
  return `Graded ${severity} with this server's configured cut points (the defaults would give ${r.grade}: ${r.rule})`;
}
