/**
 * What makes a named classification ensemble valid: a name of its own, 1 to 8 members with weights
 * above 0, each a known classification model (and, when pinned, a version it has), no member twice,
 * all sharing one label list. Each refusal is a BAD_USER_INPUT naming the `field` at fault and a
 * stable `reason` a client may branch on.
 */
import { badInput } from '../../infra/errors';
import type { EnsembleMemberDefinition } from '../../entities/classification-ensemble';
import type { ModelInfo, ModelVersionInfo } from '../catalogue/catalogue';

/** As model names (manifest `name`): lower case letters, digits and dashes, 3 to 64 characters. */
export const ENSEMBLE_NAME = /^[a-z0-9][a-z0-9-]{2,63}$/;
export const MAX_ENSEMBLE_MEMBERS = 8;
export const MAX_DESCRIPTION_LENGTH = 500;

/** The registry lookups the checks need (ModelRegistry has them). */
export interface ModelLookup {
  model(name: string): ModelInfo | null;
  versionInfo(name: string, version: string): ModelVersionInfo | null;
}

export interface MemberInputLike {
  model: string;
  version?: string | null;
  weight?: number | null;
}

export function checkEnsembleName(name: string, field = 'name'): string {
  if (typeof name !== 'string' || !ENSEMBLE_NAME.test(name))
    throw badInput(
      field,
      'an ensemble name is 3 to 64 lower-case letters, digits and dashes, starting with a letter or digit',
      {
        reason: 'INVALID_NAME',
      },
    );
  return name;
}

export function checkDescription(description: string | null | undefined, field = 'description'): string | null {
  if (description == null) return null;
  if (description.length > MAX_DESCRIPTION_LENGTH)
    throw badInput(field, `description is at most ${MAX_DESCRIPTION_LENGTH} characters`, { reason: 'TOO_LONG' });
  return description;
}

/** The labels a member's jobs would use: its pinned version's, else the active (else newest) version's. */
function labelsOf(m: ModelInfo, version: string | null): string[] {
  const v = m.versions.find((x) => x.version === (version ?? m.activeVersion)) ?? (version ? undefined : m.versions[0]);
  return v?.labels ?? [];
}

/**
 * The members as stored, checked against the registry. Weights stay raw (jobs normalise them); a
 * default of 1 is filled in. Shape first (count, weights, duplicates), then the registry.
 */
export function checkEnsembleMembers(
  inputs: readonly MemberInputLike[],
  models: ModelLookup,
  field = 'members',
): EnsembleMemberDefinition[] {
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw badInput(field, 'an ensemble has at least one member', { reason: 'NO_MEMBERS' });
  if (inputs.length > MAX_ENSEMBLE_MEMBERS)
    throw badInput(field, `an ensemble has at most ${MAX_ENSEMBLE_MEMBERS} members, got ${inputs.length}`, {
      reason: 'TOO_MANY_MEMBERS',
      max: MAX_ENSEMBLE_MEMBERS,
    });
  const members = inputs.map((m, i): EnsembleMemberDefinition => {
    const f = `${field}[${i}]`;
    const weight = m.weight ?? 1;
    if (!Number.isFinite(weight) || weight <= 0)
      throw badInput(`${f}.weight`, `weight must be a finite number above 0, got ${weight}`, {
        reason: 'INVALID_WEIGHT',
      });
    if (typeof m.model !== 'string' || !m.model || m.model.length > 100)
      throw badInput(`${f}.model`, 'model must be a model name', { reason: 'UNKNOWN_MODEL' });
    const version = m.version ?? null;
    if (version !== null && (typeof version !== 'string' || !version || version.length > 100))
      throw badInput(`${f}.version`, 'version must be a version of the model', { reason: 'UNKNOWN_VERSION' });
    return { model: m.model, version, weight };
  });
  members.forEach((m, i) => {
    const first = members.findIndex((x) => x.model === m.model && x.version === m.version);
    if (first !== i)
      throw badInput(
        `${field}[${i}]`,
        `member ${i} repeats member ${first} (${m.model}${m.version ? `@${m.version}` : ''})`,
        {
          reason: 'DUPLICATE_MEMBER',
        },
      );
  });
  let labels: string[] | null = null;
  members.forEach((m, i) => {
    const f = `${field}[${i}]`;
    const model = models.model(m.model);
    if (!model)
      throw badInput(`${f}.model`, `no model is named "${m.model}"`, { reason: 'UNKNOWN_MODEL', model: m.model });
    if (m.version !== null && !models.versionInfo(m.model, m.version))
      throw badInput(`${f}.version`, `model ${m.model} has no version ${m.version}`, {
        reason: 'UNKNOWN_VERSION',
        model: m.model,
      });
    const task = (m.version ? models.versionInfo(m.model, m.version)! : model.versions[0]).task;
    if (task !== 'classification')
      throw badInput(`${f}.model`, `${m.model} is a ${task} model, not classification`, {
        reason: 'NOT_CLASSIFICATION',
        model: m.model,
      });
    const own = labelsOf(model, m.version);
    if (labels && JSON.stringify(own) !== JSON.stringify(labels))
      throw badInput(`${f}.model`, `${m.model} has labels ${own.join(', ')}; member 0 has ${labels.join(', ')}`, {
        reason: 'LABELS_DIFFER',
        model: m.model,
      });
    labels ??= own;
  });
  return members;
}
