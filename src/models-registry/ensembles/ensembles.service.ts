/**
 * Named classification ensembles: read, created, changed and deleted in PostgreSQL (so every api
 * process and worker sees one definition), checked against the registry (ensemble-rules.ts).
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, conflict, notFound } from '../../infra/errors';
import type { Config } from '../../infra/config';
import { ClassificationEnsemble, type EnsembleMemberDefinition } from '../../entities/classification-ensemble';
import { coalescedRead } from '../../infra/database/coalesced-reads';
import { RegistryError } from '../errors';
import type { ModelRegistry } from '../registry';
import { checkDescription, checkEnsembleMembers, checkEnsembleName, type MemberInputLike } from './ensemble-rules';
import { DEFAULT_ENSEMBLE } from './shipped-ensembles';

export interface EnsembleDefinition {
  name: string;
  members: EnsembleMemberDefinition[];
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string | null;
}

export interface EnsembleInput {
  members: MemberInputLike[];
  description?: string | null;
}

interface Row {
  name: string;
  members: EnsembleMemberDefinition[];
  description: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  updated_by: string | null;
}

const COLUMNS = 'name, members, description, created_at, updated_at, updated_by';
const toDefinition = (r: Row): EnsembleDefinition => ({
  name: r.name,
  members: r.members,
  description: r.description,
  // The driver hands timestamps over as text.
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  updatedBy: r.updated_by,
});

/** One ensemble by name, or null (one indexed statement: classify calls read it on every request). */
export async function findEnsemble(em: EntityManager, name: string): Promise<EnsembleDefinition | null> {
  // Read on every classification (a change made on another api process holds for the next request), so it
  // travels with the request's other reads of the tick.
  const rows = (await coalescedRead(em, {
    sql: `select ${COLUMNS} from classification_ensembles where name = ?`,
    params: [name],
  })) as unknown as Row[];
  return rows[0] ? toDefinition(rows[0]) : null;
}

/** Every ensemble, by name. */
export async function listEnsembles(em: EntityManager): Promise<EnsembleDefinition[]> {
  const rows = (await em
    .getConnection()
    .execute(`select ${COLUMNS} from classification_ensembles order by name`)) as Row[];
  return rows.map(toDefinition);
}

/** The ensemble name DEFAULT_CLASSIFIER stands for: its value, or when unset the shipped `default-classifier`. */
export const defaultEnsembleName = (config: Pick<Config, 'DEFAULT_CLASSIFIER'>) =>
  config.DEFAULT_CLASSIFIER || DEFAULT_ENSEMBLE;

/**
 * Refuses a model package named like an ensemble (uploadModelPackage), as `create` refuses a model's
 * name: where a client picks a classifier (DEFAULT_CLASSIFIER takes either) one name must mean one thing.
 */
export async function refuseEnsembleName(em: EntityManager, name: string): Promise<void> {
  if (await findEnsemble(em, name))
    throw new RegistryError(
      'CONFLICT',
      `name.taken: "${name}" is a classification ensemble's name; a model needs a name of its own`,
      { check: 'name.taken', field: 'name', reason: 'ENSEMBLE_NAME' },
    );
}

const missing = (name: string) => notFound('Classification ensemble', { field: 'name', ensemble: name });

/** Admin changes to named ensembles (the resolver audits them). */
export class EnsembleAdmin {
  constructor(private readonly deps: { registry: ModelRegistry; config: Pick<Config, 'DEFAULT_CLASSIFIER'> }) {}

  async create(em: EntityManager, name: string, input: EnsembleInput, actorId: string): Promise<EnsembleDefinition> {
    checkEnsembleName(name);
    const description = checkDescription(input.description);
    const members = checkEnsembleMembers(input.members, this.deps.registry);
    // Names are one namespace for DEFAULT_CLASSIFIER: a model's name would be ambiguous.
    if ((await this.deps.registry.catalog()).some((m) => m.name === name))
      throw conflict(`"${name}" is a model's name; an ensemble needs a name of its own`, {
        field: 'name',
        reason: 'MODEL_NAME',
      });
    const row = Object.assign(new ClassificationEnsemble(), { name, members, description, updatedBy: actorId });
    try {
      await em.fork().persistAndFlush(row);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException)
        throw conflict(`an ensemble named "${name}" exists`, { field: 'name', reason: 'ENSEMBLE_EXISTS' });
      throw err;
    }
    return (await findEnsemble(em, name))!;
  }

  /** Replaces the members (and, when given, the description) of an existing ensemble. */
  async update(em: EntityManager, name: string, input: EnsembleInput, actorId: string): Promise<EnsembleDefinition> {
    const members = checkEnsembleMembers(input.members, this.deps.registry);
    const description = checkDescription(input.description);
    const fork = em.fork();
    const row = await fork.findOne(ClassificationEnsemble, { name });
    if (!row) throw missing(name);
    Object.assign(row, { members, updatedBy: actorId, ...(input.description !== undefined ? { description } : {}) });
    await fork.flush();
    return (await findEnsemble(em, name))!;
  }

  /** Deletes an ensemble; never the one DEFAULT_CLASSIFIER stands for (classify calls without models use it). */
  async remove(em: EntityManager, name: string): Promise<EnsembleDefinition> {
    const found = await findEnsemble(em, name);
    if (!found) throw missing(name);
    if (name === defaultEnsembleName(this.deps.config))
      throw conflict(
        `"${name}" is the default classifier (DEFAULT_CLASSIFIER${this.deps.config.DEFAULT_CLASSIFIER ? '' : ' unset'}): point DEFAULT_CLASSIFIER elsewhere first`,
        { field: 'name', reason: 'DEFAULT_CLASSIFIER' },
      );
    await em.getConnection().execute('delete from classification_ensembles where name = ?', [name]);
    return found;
  }
}

/** An ensemble that can no longer run as defined (a member unloaded, its labels changed): MODEL_UNAVAILABLE. */
export function ensembleUnavailable(name: string, field: string, cause: AppError): AppError {
  return new AppError('MODEL_UNAVAILABLE', `ensemble "${name}" cannot run: ${cause.message}`, {
    field,
    ensemble: name,
    reason: 'ENSEMBLE_MEMBER_UNAVAILABLE',
    ...(cause.extensions.model ? { model: cause.extensions.model } : {}),
  });
}
