/** Named classification ensembles of the registry (docs/inference.md, "Named ensembles"). */
export { EnsemblesResolver } from './ensembles.resolver';
export { defaultEnsembleName, ensembleUnavailable, findEnsemble, listEnsembles } from './ensembles.service';
export type { EnsembleDefinition } from './ensembles.service';
export { DEFAULT_ENSEMBLE, GAP_MLP_AVERAGE, SHIPPED_ENSEMBLES } from './shipped-ensembles';
