/** What a client reads from a classification: the label, its confidence and the malignancy call. */
import { argmax } from './softmax';

export interface ClassificationSummary {
  /**
   * The most probable label on the side of the call: among the malignant labels when `malignant`,
   * among the others when not. A calibrated model's operating threshold sits below 0.5, so the most
   * probable label overall could read "benign" for a lesion the model calls malignant; the label a
   * report prints and Grad-CAM explains must never contradict the call.
   */
  label: string;
  /** Probability of `label` (below 0.5 where the call goes against the most probable label). */
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
  const malignantProbability = Math.min(
    1,
    labels.reduce((s, l, i) => (malignantLabels.includes(l) ? s + probabilities[i] : s), 0),
  );
  const malignant = malignantProbability >= decisionThreshold;
  // The other side's labels out of the running; a model without labels on the call's side keeps them all.
  const onSide = probabilities.map((p, i) => (malignantLabels.includes(labels[i]) === malignant ? p : -Infinity));
  const best = onSide.some((p) => p > -Infinity) ? argmax(onSide) : argmax(probabilities);
  return {
    label: labels[best],
    confidence: probabilities[best],
    malignantProbability,
    malignant,
    probabilities: labels.map((label, i) => ({ label, probability: probabilities[i] })),
  };
}
