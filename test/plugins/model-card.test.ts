import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cvEntry, readCvResults, type CvClassifier, type CvResults } from '../../scripts/cv-results';
import { formatCv } from '../../scripts/evaluate';
import { fillTemplate, renderCvTable, renderMetricsTable, thresholdSentence, withCi } from '../../scripts/model-card';
import { softmax } from '../../scripts/plugin-runner';
import { overlay } from '../../scripts/render-overlays';
import { CLASSIFIERS, PLUGIN_ROOT } from './shipped';

const PROTOCOL: CvResults['protocol'] = {
  pool: 'dev',
  folds: 5,
  repeats: 2,
  foldSeeds: [1, 2],
  trainSeed: 3,
  bootstrap: { iterations: 2000, seed: 4, level: 0.95 },
};
const ENTRY: CvClassifier = {
  arch: 'GAP + linear',
  current: { rocAuc: 0.8, rocAucCi95: [0.7, 0.88], rocAucPerRepeat: [0.79, 0.81], sensitivityAt90Specificity: 0.45, ece: 0.1 },
  foldModelAuc: { mean: 0.8, sd: 0.05, min: 0.7, max: 0.9 },
  calibration: {
    temperature: 1.5,
    shift: -0.8,
    eceBefore: 0.12,
    eceAfter: 0.05,
    eceAfterInSample: 0.04,
    temperatureOnly: { temperature: 1.4, eceAfter: 0.11 },
  },
  decisionThreshold: {
    rule: 'Youden',
    threshold: 0.31,
    sensitivity: 0.6282,
    specificity: 0.6685,
    youdenJ: 0.2967,
    'at0.5': { sensitivity: 0.2115, specificity: 0.9438, youdenJ: 0.1553 },
  },
};

describe('cross-validation renderers', () => {
  it('write each figure with 4 decimals and its interval', () => {
    expect(withCi(0.8, [0.7, 0.88])).toBe('0.8000 (0.7000 to 0.8800)');
    const table = renderCvTable(PROTOCOL, ENTRY);
    expect(table).toContain('5-fold CV x 2 repeats');
    expect(table).toContain('| ROC AUC (95% CI, stratified bootstrap) | 0.8000 (0.7000 to 0.8800) |');
    expect(table).toContain('| ROC AUC per repeat | 0.7900, 0.8100 |');
    expect(table).toContain('| ROC AUC of the 10 fold models on their held-out folds | mean 0.8000, sd 0.0500, range 0.7000 to 0.9000 |');
    expect(table).toContain('| sensitivity at 90% specificity | 0.4500 |');
    expect(table).toContain('| ECE (10 bins), softmax as trained | 0.1200 |');
    expect(table).toContain('P = sigmoid(z / T + shift) (fitted on the other folds) | 0.0500 |');
    expect(table).toContain('| ECE after temperature alone (T 1.4000, fitted on the other folds) | 0.1100 |');
    expect(table).toContain('| T 1.5000, shift -0.8000 |');
    const printed = formatCv('m', PROTOCOL, ENTRY);
    expect(printed).toContain('ROC AUC            0.8000  (95% CI 0.7000 to 0.8800), per repeat 0.7900, 0.8100');
    expect(printed).toContain('0.1200 as trained, 0.0500 after calibration (P = sigmoid(z / 1.5000 + -0.8000)');
    expect(printed).toContain('temperature alone 0.1100');
    expect(table).toContain('out-of-fold calibrated probabilities) | P(malignant) >= 0.31: sensitivity 0.6282, specificity 0.6685 |');
    expect(table).toContain('| the same rule at 0.5, for comparison | P(malignant) >= 0.5: sensitivity 0.2115, specificity 0.9438 |');
    expect(printed).toContain('threshold          0.31 (largest Youden');
    expect(printed).toContain('sensitivity 0.6282, specificity 0.6685; at 0.5 0.2115, 0.9438');
    const sentence = thresholdSentence(ENTRY.decisionThreshold);
    expect(sentence).toMatch(/^Decision: `malignant` when P\(malignant\) >= 0\.31 /);
    expect(sentence).toContain('at 0.5 they would be 0.2115 and 0.9438');
  });

  it('refuse a classifier the results do not hold, naming the file', () => {
    const empty = { protocol: PROTOCOL, classifiers: {}, recipes: {}, ensembleWeightOfGap: {} } as unknown as CvResults;
    expect(() => cvEntry(empty, 'x', 'cv.json')).toThrow(
      /cv.json has no cross-validation of x/,
    );
  });
});

describe.each(CLASSIFIERS)('%s model card', (name) => {
  it('carries the committed cross-validation table and links its reliability diagram', async () => {
    const cv = await readCvResults(path.join(__dirname, '../../training/cv/results.json'));
    const card = readFileSync(path.join(PLUGIN_ROOT, name, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain(renderCvTable(cv.protocol, cvEntry(cv, name)));
    expect(card).toContain(thresholdSentence(cvEntry(cv, name).decisionThreshold));
    expect(card).toContain('](reliability.png)');
    expect(existsSync(path.join(PLUGIN_ROOT, name, 'reliability.png'))).toBe(true);
  });

  it("records the CPU kernels its training was pinned to (the Makefile's, checked by training/common.py)", () => {
    const card = readFileSync(path.join(PLUGIN_ROOT, name, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(
      /- CPU kernels pinned: PyTorch \S+ with ATEN_CPU_CAPABILITY=avx2 and ONEDNN_MAX_CPU_ISA=AVX2 \(ATen ran AVX2 kernels\)/,
    );
    const makefile = readFileSync(path.join(__dirname, '../../Makefile'), 'utf8');
    expect(makefile).toMatch(/^export ATEN_CPU_CAPABILITY = avx2$/m);
    expect(makefile).toMatch(/^export ONEDNN_MAX_CPU_ISA = AVX2$/m);
  });
});

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
