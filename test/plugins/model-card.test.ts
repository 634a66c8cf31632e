import { fillTemplate, renderMetricsTable } from '../../scripts/model-card';
import { softmax } from '../../scripts/plugin-runner';
import { overlay } from '../../scripts/render-overlays';

describe('renderMetricsTable', () => {
  it('writes the figures with 4 decimals and the counts behind sensitivity and specificity', () => {
    const table = renderMetricsTable({
      rocAuc: 0.75, rocAucCi95: [0.6, 0.9], sensitivity: 0.8, specificity: 0.9, balancedAccuracy: 0.85,
      n: 60, threshold: 0.5, confusion: { tp: 8, fn: 2, tn: 45, fp: 5 },
    });
    expect(table).toContain('| ROC AUC (95% CI, stratified bootstrap) | 0.7500 (0.6000 to 0.9000) |');
    expect(table).toContain('| sensitivity | 0.8000 (8 of 10 melanomas) |');
    expect(table).toContain('| specificity | 0.9000 (45 of 50 nevi) |');
    expect(table).toContain('n = 60, threshold P(malignant) >= 0.5');
  });
});

describe('fillTemplate', () => {
  it('replaces every placeholder and refuses an unknown one', () => {
    expect(fillTemplate('a {{X}} b {{Y_2}} {{X}}', { X: '1', Y_2: '2' })).toBe('a 1 b 2 1');
    expect(() => fillTemplate('{{MISSING}}', {})).toThrow(/MISSING/);
  });
});

describe('softmax', () => {
  it('gives known probabilities and survives large logits', () => {
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]);
  });
});

describe('overlay', () => {
  it('tints the inside red, draws the boundary yellow and leaves the outside alone', () => {
    // 3 x 3 grey image, mask covering the centre only: the centre is its own boundary
    const rgb = new Uint8Array(27).fill(100);
    const mask = new Float32Array([0, 0, 0, 0, 0.9, 0, 0, 0, 0]);
    const out = overlay(rgb, mask, 3, 3);
    expect(Array.from(out.subarray(12, 15))).toEqual([255, 255, 0]);
    expect(Array.from(out.subarray(0, 3))).toEqual([100, 100, 100]);
    // a 3 x 3 mask: the centre pixel is inside, not on the edge, so it is tinted (0.65 * 100 + 0.35 * 255)
    const full = overlay(rgb, new Float32Array(9).fill(1), 3, 3);
    expect(Array.from(full.subarray(12, 15))).toEqual([154, 65, 65]);
  });
});
