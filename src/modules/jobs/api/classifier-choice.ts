/**
 * Which members a classification runs: the caller's `models`, a named ensemble of the registry
 * (`ensemble`), or the default classifier. The default is the DEFAULT_CLASSIFIER model or ensemble;
 * with DEFAULT_CLASSIFIER unset, the shipped `default-classifier` ensemble, else (a database
 * without it) the first active classification model by name.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../../infra/config';
import { AppError, badInput } from '../../../infra/errors';
import {
  DEFAULT_ENSEMBLE,
  ensembleUnavailable,
  findEnsemble,
  type EnsembleDefinition,
  type ModelRegistry,
} from '../../../models-registry';
import type { MemberSpec } from '../runner/members';

type Member = { model: string; version?: string | null; weight?: number | null };

export interface ClassifierChoiceDeps {
  config: Pick<Config, 'DEFAULT_CLASSIFIER'>;
  registry: ModelRegistry;
  /** Resolves members as `models` are (JobService.resolveMembers): errors name `field`. */
  resolve: (inputs: readonly Member[], field: string) => MemberSpec[];
}

/** The members and, when they came from a named ensemble, its name. `at` prefixes error fields (`classify.`). */
export async function chooseClassifier(
  em: EntityManager,
  args: { models?: readonly Member[] | null; ensemble?: string | null },
  at: string,
  deps: ClassifierChoiceDeps,
): Promise<{ members: MemberSpec[]; ensemble: string | null }> {
  if (args.models?.length && args.ensemble != null)
    throw badInput(`${at}ensemble`, 'give models or ensemble, not both', { reason: 'MODELS_AND_ENSEMBLE' });
  const field = `${at}models`;
  const single = (model: string) => ({ members: deps.resolve([{ model }], field), ensemble: null });
  if (args.models?.length) return { members: deps.resolve(args.models, field), ensemble: null };
  if (args.ensemble != null) return namedEnsemble(em, args.ensemble, `${at}ensemble`, true, deps);
  const configured = deps.config.DEFAULT_CLASSIFIER;
  // A model's name wins: DEFAULT_CLASSIFIER named models before ensembles existed (and names never collide).
  if (configured && deps.registry.model(configured)) return single(configured);
  if (configured) return namedEnsemble(em, configured, field, false, deps);
  const shipped = await findEnsemble(em, DEFAULT_ENSEMBLE);
  if (shipped) return resolveEnsemble(shipped, field, deps);
  const first = deps.registry
    .list()
    .filter((m) => m.activeVersion && m.versions.some((v) => v.task === 'classification'))
    .map((m) => m.name)
    .sort()[0];
  if (!first) throw new AppError('MODEL_UNAVAILABLE', 'no classification model is active', { field });
  return single(first);
}

/**
 * A named ensemble's members, resolved as `models` would be. Unknown (`asked`: the caller named it;
 * else DEFAULT_CLASSIFIER did): MODEL_UNAVAILABLE, reason UNKNOWN_ENSEMBLE. A member that can no
 * longer run (unloaded, its pinned version gone, its labels changed): MODEL_UNAVAILABLE naming the
 * ensemble, reason ENSEMBLE_MEMBER_UNAVAILABLE.
 */
async function namedEnsemble(
  em: EntityManager,
  name: string,
  field: string,
  asked: boolean,
  deps: ClassifierChoiceDeps,
): Promise<{ members: MemberSpec[]; ensemble: string }> {
  const found = typeof name === 'string' && name.length <= 100 ? await findEnsemble(em, name) : null;
  if (!found) {
    throw new AppError(
      'MODEL_UNAVAILABLE',
      asked
        ? `no classification ensemble is named "${name}"`
        : `DEFAULT_CLASSIFIER "${name}" names neither a model nor an ensemble`,
      { field, ensemble: name, reason: 'UNKNOWN_ENSEMBLE' },
    );
  }
  return resolveEnsemble(found, field, deps);
}

function resolveEnsemble(
  found: EnsembleDefinition,
  field: string,
  deps: ClassifierChoiceDeps,
): { members: MemberSpec[]; ensemble: string } {
  try {
    return { members: deps.resolve(found.members, 'members'), ensemble: found.name };
  } catch (e) {
    if (e instanceof AppError) throw ensembleUnavailable(found.name, field, e);
    throw e;
  }
}
