/** Pure renderers for the parts of a MODEL_CARD.md that come from measured numbers, so the card, the
 * manifest and a fresh evaluation can be compared as text (test/plugins checks they agree). */
import type { BinaryMetrics } from '../src/inference/evaluation';

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
    `| ROC AUC (95% CI, stratified bootstrap) | ${m.rocAuc.toFixed(4)} (${m.rocAucCi95[0].toFixed(4)} to ${m.rocAucCi95[1].toFixed(4)}) |`,
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
