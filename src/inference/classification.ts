/** What a client reads from a classification: the label, its confidence and the malignancy call. */
import { argmax } from './softmax';

export interface ClassificationSummary {
  label: string;
  /** Probability of `label`. */
  confidence: number;
  /** P(malignant): the summed probability of the manifest's malignant labels, capped at 1. */
  malignantProbability: number;
  /** malignantProbability >= the manifest's decisionThreshold. */
  malignant: boolean;
  probabilities: { label: string; probability: number }[];
}

export function summariseClassification(
  probabilities: readonly number[],
  labels: readonly string[],
  malignantLabels: readonly string[],
  decisionThreshold: number,
): ClassificationSummary {
  if (probabilities.length !== labels.length)
    throw new Error(`${probabilities.length} probabilities for ${labels.length} labels`);
  const best = argmax(probabilities);
  const malignantProbability = Math.min(
    1,
    labels.reduce((s, l, i) => (malignantLabels.includes(l) ? s + probabilities[i] : s), 0),
  );
  return {
    label: labels[best],
    confidence: probabilities[best],
    malignantProbability,
    malignant: malignantProbability >= decisionThreshold,
    probabilities: labels.map((label, i) => ({ label, probability: probabilities[i] })),
  };
}
