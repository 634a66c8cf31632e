/**
 * How much the members of a classification ensemble disagree: the spread of their P(malignant)
 * and whether they name different labels. An uncertainty signal beside the ensemble's answer, not
 * a probability: two members at 0.1 and 0.9 average to a confident-looking 0.5 that no member said.
 */

/** One member's vote: its normalised weight, its own P(malignant) and its own top label. */
export interface MemberVote {
  weight: number;
  malignantProbability: number;
  label: string;
}

export interface MemberDisagreement {
  /** max - min of the members' P(malignant), 0..1. */
  malignantProbabilitySpread: number;
  /** Weighted (population) standard deviation of the members' P(malignant) around their weighted mean, 0..0.5. */
  malignantProbabilityStdDev: number;
  /** The members' top labels are not all the same. */
  labelsDisagree: boolean;
}

/** The members' disagreement; null for fewer than two members (nothing to disagree with). */
export function memberDisagreement(votes: readonly MemberVote[]): MemberDisagreement | null {
  if (votes.length < 2) return null;
  const total = votes.reduce((s, v) => s + v.weight, 0);
  if (!(total > 0)) throw new Error('member weights must sum to more than 0');
  const p = votes.map((v) => v.malignantProbability);
  const w = votes.map((v) => v.weight / total);
  const mean = p.reduce((s, x, i) => s + w[i] * x, 0);
  const variance = p.reduce((s, x, i) => s + w[i] * (x - mean) ** 2, 0);
  const spread = Math.max(...p) - Math.min(...p);
  return {
    malignantProbabilitySpread: spread,
    // Members that agree exactly read 0, not the rounding left by the weighted mean (1e-9).
    malignantProbabilityStdDev: spread === 0 ? 0 : Math.sqrt(variance),
    labelsDisagree: votes.some((v) => v.label !== votes[0].label),
  };
}
