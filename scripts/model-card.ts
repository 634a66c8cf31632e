/** Pure renderers for the parts of a MODEL_CARD.md that come from measured numbers, so the card, the
 * manifest and a fresh evaluation can be compared as text (test/plugins checks they agree). */
import type { BinaryMetrics } from '../src/inference/evaluation';
import type { CvClassifier, CvDecisionThreshold, CvRates, CvResults } from './cv-results';

export function renderMetricsTable(
  m: Pick<
    BinaryMetrics,
    'rocAuc' | 'rocAucCi95' | 'sensitivity' | 'specificity' | 'balancedAccuracy' | 'n' | 'threshold' | 'confusion'
  >,
): string {
  const c = m.confusion;
  return [
    `| metric (test split, n = ${m.n}, threshold P(malignant) >= ${m.threshold}) | value |`,
    '| --- | --- |',
    `| ROC AUC (95% CI, stratified bootstrap) | ${withCi(m.rocAuc, m.rocAucCi95)} |`,
    `| sensitivity | ${m.sensitivity.toFixed(4)} (${c.tp} of ${c.tp + c.fn} melanomas) |`,
    `| specificity | ${m.specificity.toFixed(4)} (${c.tn} of ${c.tn + c.fp} nevi) |`,
    `| balanced accuracy | ${m.balancedAccuracy.toFixed(4)} |`,
    `| confusion | TP ${c.tp}, FN ${c.fn}, FP ${c.fp}, TN ${c.tn} |`,
  ].join('\n');
}

/** Replaces every {{KEY}} in a template; an unknown key is an error so a card never ships a placeholder. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`model card template uses {{${key}}} but no value was given`);
    return values[key];
  });
}

/** `0.7500 (0.6000 to 0.9000)`: a figure with its interval, 4 decimals. */
export function withCi(value: number, ci: [number, number]): string {
  return `${value.toFixed(4)} (${ci[0].toFixed(4)} to ${ci[1].toFixed(4)})`;
}

/** The model card's cross-validation table: the shipped recipe's out-of-fold figures and calibration. */
export function renderCvTable(protocol: CvResults['protocol'], c: CvClassifier): string {
  const f = c.current;
  const cal = c.calibration;
  return [
    `| metric (out-of-fold, ${protocol.folds}-fold CV x ${protocol.repeats} repeats on the 256-image development pool) | value |`,
    '| --- | --- |',
    `| ROC AUC (95% CI, stratified bootstrap) | ${withCi(f.rocAuc, f.rocAucCi95)} |`,
    `| ROC AUC per repeat | ${f.rocAucPerRepeat.map((a) => a.toFixed(4)).join(', ')} |`,
    `| ROC AUC of the ${protocol.folds * protocol.repeats} fold models on their held-out folds | mean ${c.foldModelAuc.mean.toFixed(4)}, sd ${c.foldModelAuc.sd.toFixed(4)}, range ${c.foldModelAuc.min.toFixed(4)} to ${c.foldModelAuc.max.toFixed(4)} |`,
    `| sensitivity at 90% specificity | ${f.sensitivityAt90Specificity.toFixed(4)} |`,
    `| ECE (10 bins), softmax as trained | ${cal.eceBefore.toFixed(4)} |`,
    `| ECE after temperature and bias, P = sigmoid(z / T + shift) (fitted on the other folds) | ${cal.eceAfter.toFixed(4)} |`,
    `| ECE after temperature alone (T ${cal.temperatureOnly.temperature.toFixed(4)}, fitted on the other folds) | ${cal.temperatureOnly.eceAfter.toFixed(4)} |`,
    `| T and shift shipped (fitted on all out-of-fold logits; folded into the last layer) | T ${cal.temperature.toFixed(4)}, shift ${cal.shift.toFixed(4)} |`,
    `| decision threshold shipped (largest Youden's J on the pooled out-of-fold calibrated probabilities) | ${rates(c.decisionThreshold.threshold, c.decisionThreshold)} |`,
    `| the same rule at 0.5, for comparison | ${rates(0.5, c.decisionThreshold['at0.5'])} |`,
  ].join('\n');
}

const rates = (t: number, r: CvRates) =>
  `P(malignant) >= ${t}: sensitivity ${r.sensitivity.toFixed(4)}, specificity ${r.specificity.toFixed(4)}`;

/** The card's "Decision" line: the manifest's threshold and where it comes from. */
export function thresholdSentence(d: CvDecisionThreshold): string {
  return [
    `Decision: \`malignant\` when P(malignant) >= ${d.threshold} (the manifest's \`decisionThreshold\`), chosen by`,
    `  \`training/cv_report.py\` as the threshold of largest Youden's J (sensitivity + specificity - 1) on the`,
    `  cross-validation's pooled out-of-fold calibrated probabilities, on a grid of 0.01: out-of-fold sensitivity`,
    `  ${d.sensitivity.toFixed(4)}, specificity ${d.specificity.toFixed(4)} (at 0.5 they would be ${d['at0.5'].sensitivity.toFixed(4)} and ${d['at0.5'].specificity.toFixed(4)}).`,
  ].join('\n');
}
