/**
 * The cross-validation results written by training/cv_report.py (training/cv/results.json, regenerated
 * by `npm run train:models`): read here for `npm run evaluate` and the model cards.
 */
import { readFile } from 'node:fs/promises';

export const CV_RESULTS = 'training/cv/results.json';

/** One recipe's out-of-fold figures (means over the CV repeats; CI from a stratified image bootstrap). */
export interface CvFigures {
  rocAuc: number;
  rocAucCi95: [number, number];
  rocAucPerRepeat: number[];
  sensitivityAt90Specificity: number;
  ece: number;
}

/** P = sigmoid(z / temperature + shift), z = logit(malignant) - logit(benign); fitted on out-of-fold logits. */
export interface CvCalibration {
  temperature: number;
  shift: number;
  eceBefore: number;
  /** each fold's temperature and shift fitted on the other folds only */
  eceAfter: number;
  /** the shipped temperature and shift, fitted on all out-of-fold logits: optimistic */
  eceAfterInSample: number;
  /** temperature scaling alone, for comparison (cross-fitted ECE) */
  temperatureOnly: { temperature: number; eceAfter: number };
}

/** Sensitivity and specificity of 'P(malignant) >= threshold' on the pooled out-of-fold calibrated probabilities. */
export interface CvRates {
  sensitivity: number;
  specificity: number;
  youdenJ: number;
}

/** The threshold a classifier ships with (its manifest's postprocess.decisionThreshold) and how it was chosen. */
export interface CvDecisionThreshold extends CvRates {
  rule: string;
  threshold: number;
  'at0.5': CvRates;
}

export interface CvClassifier {
  arch: string;
  current: CvFigures;
  foldModelAuc: { mean: number; sd: number; min: number; max: number };
  calibration: CvCalibration;
  decisionThreshold: CvDecisionThreshold;
}

export interface CvResults {
  protocol: {
    pool: string;
    folds: number;
    repeats: number;
    foldSeeds: number[];
    trainSeed: number;
    bootstrap: { iterations: number; seed: number; level: number };
  };
  classifiers: Record<string, CvClassifier>;
  recipes: Record<string, CvFigures>;
  ensembleWeightOfGap: Record<string, CvFigures>;
  /** The shipped pair gap-mlp-average at equal weights, deciding at the mean of its members' thresholds. */
  gapMlpAverageThreshold: CvRates & {
    members: Record<string, number>;
    threshold: number;
    ownYouden: CvRates & { threshold: number };
  };
}

export async function readCvResults(file = CV_RESULTS): Promise<CvResults> {
  return JSON.parse(await readFile(file, 'utf8')) as CvResults;
}

/** The named classifier's entry; an error names the file when the classifier was not cross-validated. */
export function cvEntry(results: CvResults, name: string, file = CV_RESULTS): CvClassifier {
  const entry = results.classifiers[name];
  if (!entry) throw new Error(`${file} has no cross-validation of ${name} (run npm run train:models)`);
  return entry;
}
