import type { EnsembleMemberDefinition } from '../../entities/classification-ensemble';

/** The name of the shipped ensemble: the classifier used when DEFAULT_CLASSIFIER is unset. */
export const DEFAULT_ENSEMBLE = 'default-classifier';

/** The shipped average of the two classifiers: for callers who want the members' disagreement. */
export const GAP_MLP_AVERAGE = 'gap-mlp-average';

/**
 * The named ensembles a new database starts with (migration 20261203150000 inserts them once;
 * 20261204100000 brings a database seeded before this list changed up to it). THE place to change the
 * shipped weights: raw weights, normalised when a job runs. A running deployment changes them with
 * updateClassificationEnsemble.
 *
 * Why the default is dg-gap-classifier alone: on the 5-fold x 2 cross-validation of the development pool
 * (training/cv/results.json) the equal-weight average of the two calibrated classifiers has an out-of-fold
 * ROC AUC of 0.692 against 0.693 for dg-gap-classifier alone, with 95% CIs of about 0.62 to 0.75: a tie.
 * An ensemble costs a second model per image, so it is the default only when cross-validation says it is
 * better; it ships under its own name for callers who want the members' disagreement as an uncertainty signal.
 */
export const SHIPPED_ENSEMBLES: ReadonlyArray<{
  name: string;
  description: string;
  members: EnsembleMemberDefinition[];
}> = [
  {
    name: DEFAULT_ENSEMBLE,
    description:
      'dg-gap-classifier alone (the default classifier when DEFAULT_CLASSIFIER is unset): cross-validation does not show the averaged pair to be better',
    members: [{ model: 'dg-gap-classifier', version: null, weight: 1 }],
  },
  {
    name: GAP_MLP_AVERAGE,
    description:
      "The two shipped classifiers, averaged at equal weights: the members' disagreement as an uncertainty signal",
    members: [
      { model: 'dg-gap-classifier', version: null, weight: 1 },
      { model: 'dg-mlp-classifier', version: null, weight: 1 },
    ],
  },
];
