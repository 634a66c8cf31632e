/**
 * A classification ensemble's answer together with each member's own: the members' probability
 * vectors averaged by weight and summarised, each member summarised the same way (its label, its
 * confidence, its P(malignant)), and how much they disagree.
 */
import { averageProbabilities } from './ensemble';
import { summariseClassification, type ClassificationSummary } from './classification';
import { memberDisagreement, type MemberDisagreement } from './ensemble-disagreement';

/** One member's own answer (the fields Prediction.members[i].output keeps). */
export type MemberClassification = Omit<ClassificationSummary, 'malignant'>;

export interface EnsembleClassification {
  summary: ClassificationSummary;
  /** In the members' order. */
  members: MemberClassification[];
  /** Null with one member. */
  disagreement: MemberDisagreement | null;
}

export function classifyWithMembers(
  memberProbabilities: readonly (readonly number[])[],
  weights: readonly number[],
  labels: readonly string[],
  malignantLabels: readonly string[],
  decisionThreshold: number,
): EnsembleClassification {
  const summarise = (p: readonly number[]) => summariseClassification(p, labels, malignantLabels, decisionThreshold);
  const summary = summarise(averageProbabilities(memberProbabilities, weights));
  const members = memberProbabilities.map((p) => {
    const { malignant: _call, ...own } = summarise(p);
    return own;
  });
  const total = weights.reduce((s, w) => s + w, 0);
  const disagreement = memberDisagreement(
    members.map((m, i) => ({
      weight: weights[i] / total,
      malignantProbability: m.malignantProbability,
      label: m.label,
    })),
  );
  return { summary, members, disagreement };
}
