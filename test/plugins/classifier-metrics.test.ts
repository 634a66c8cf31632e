/**
 */
/**
 * The metrics a classifier's manifest and model card report are what a fresh evaluation of the
 * committed test split through the TypeScript path gives, so neither can drift from the ONNX file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BinaryMetrics } from '../../src/inference/evaluation';
import { cvEntry, readCvResults } from '../../scripts/cv-results';
import { evaluateClassifier, manifestMetricsBlock } from '../../scripts/evaluate';
import { renderMetricsTable } from '../../scripts/model-card';
import { readManifest } from '../../scripts/plugin-runner';
import { CLASSIFIERS, PLUGIN_ROOT } from './shipped';

const ROOT = path.join(__dirname, '../..');

describe.each(CLASSIFIERS)('%s test-split metrics', (name) => {
  const dir = path.join(PLUGIN_ROOT, name);

  it('equal the manifest metrics block and the model card table', async () => {
    const fresh = await evaluateClassifier(dir, {
      datasetDir: path.join(ROOT, 'datasets/isic-uda1'),
      splitsFile: path.join(ROOT, 'training/splits.json'),
    });
    const manifest = await readManifest(dir);
    const recorded = manifest.metrics?.test as unknown as BinaryMetrics;
    expect(manifestMetricsBlock(fresh)).toEqual(manifestMetricsBlock(recorded));
    expect(fresh.n).toBe(64);
    expect(fresh.threshold).toBe(manifest.postprocess.decisionThreshold);
    // The threshold is the one the cross-validation chose (training/cv_report.py), not typed by hand.
    const cv = await readCvResults(path.join(ROOT, 'training/cv/results.json'));
    expect(manifest.postprocess.decisionThreshold).toBe(cvEntry(cv, name).decisionThreshold.threshold);
    const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain(renderMetricsTable(fresh));
  });
});
