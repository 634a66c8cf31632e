import type { EnsembleMemberDefinition } from '../../entities/classification-ensemble';

/** The name of the shipped ensemble: the classifier used when DEFAULT_CLASSIFIER is unset. */
export const DEFAULT_ENSEMBLE = 'default-classifier';

/**
 * The named ensembles a new database starts with (migration 20261203150000 inserts them once).
 * THE place to change the shipped weights: raw weights, normalised when a job runs. Equal for now;
 * to be set from cross-validation. A running deployment changes them with updateClassificationEnsemble.
 */
export const SHIPPED_ENSEMBLES: ReadonlyArray<{
  name: string;
  description: string;
  members: EnsembleMemberDefinition[];
}> = [
  {
    name: DEFAULT_ENSEMBLE,
    description: 'The two shipped classifiers, averaged (the default classifier when DEFAULT_CLASSIFIER is unset)',
    members: [
      { model: 'dg-gap-classifier', version: null, weight: 1 },
      { model: 'dg-mlp-classifier', version: null, weight: 1 },
    ],
  },
];
