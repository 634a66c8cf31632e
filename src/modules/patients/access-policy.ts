import type { EntityManager } from '@mikro-orm/postgresql';
import { conflict, notFound } from '../../infra/errors';
import { isUuid } from '../../infra/database/sql';
import { Image, Lesion, Patient, Prediction, Role, Segmentation } from '../../entities';
import type { Caller } from './caller';
import { findVisible } from './patients.repository';

export type { Caller } from './caller';
export { visiblePatientsSql, visiblePatientIdSql, type SqlCondition } from './patients.repository';

/**
 * Who may see what: a patient's owner, the clinicians it is shared with (now), and admins may read
 * the patient and everything recorded about it (lesions, images, results). Researchers see no
 * identifying data at all. Anyone else gets NOT_FOUND, the same answer as for an id that does not
 * exist, never a hint that it does.
 */
interface Targets {
  'patient:read': Patient;
  /** Read, and the patient is not archived (else CONFLICT, reason PATIENT_ARCHIVED). */
  'patient:write': Patient;
  'lesion:read': Lesion;
  'image:read': Image;
  'prediction:read': Prediction;
  'segmentation:read': Segmentation;
}
export type Permission = keyof Targets;

/** The roles that may reach patient data at all (for `@Authorized`); the rows each may see are decided below. */
export const PATIENT_DATA_ROLES = [Role.ADMIN, Role.CLINICIAN];
/** What `requireAccess(…, permission, …)` returns for each id. */
export type AccessTarget<P extends Permission> = Targets[P];

const TARGETS: { [P in Permission]: { entity: new () => Targets[P]; what: string } } = {
  'patient:read': { entity: Patient, what: 'Patient' },
  'patient:write': { entity: Patient, what: 'Patient' },
  'lesion:read': { entity: Lesion, what: 'Lesion' },
  'image:read': { entity: Image, what: 'Image' },
  'prediction:read': { entity: Prediction, what: 'Prediction' },
  'segmentation:read': { entity: Segmentation, what: 'Segmentation' },
};

export interface AccessOptions {
  /**
   * The input field named in the NOT_FOUND of an id that is not readable (`field(i)` for the i-th
   * of many). Without it the error names no field.
   */
  field?: string | ((i: number) => string);
}

/**
 * Each of `ids` that `user` may access with `permission`, in the order asked, null where it may
 * not (or where there is no such row). One statement however many ids; none for a caller who may
 * see no patient or for ids that are not uuids.
 */
export async function findAccessible<P extends Permission>(
  em: EntityManager,
  user: Caller,
  permission: P,
  ids: readonly string[],
): Promise<(Targets[P] | null)[]> {
  const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
  const rows = (await findVisible(em, user, TARGETS[permission].entity, valid)) as (Targets[P] & { id: string })[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => (isUuid(id) ? (byId.get(id.toLowerCase()) ?? null) : null));
}

/**
 * The one access check of patient data: the row behind `id` (or each of `ids`, in order) when
 * `user` may access it with `permission`. The first id that is not accessible is NOT_FOUND (with
 * `options.field`); for 'patient:write', the first archived patient is CONFLICT. One statement.
 */
export function requireAccess<P extends Permission>(
  em: EntityManager,
  user: Caller,
  permission: P,
  id: string,
  options?: AccessOptions,
): Promise<Targets[P]>;
export function requireAccess<P extends Permission>(
  em: EntityManager,
  user: Caller,
  permission: P,
  ids: readonly string[],
  options?: AccessOptions,
): Promise<Targets[P][]>;
export async function requireAccess<P extends Permission>(
  em: EntityManager,
  user: Caller,
  permission: P,
  idOrIds: string | readonly string[],
  options: AccessOptions = {},
): Promise<Targets[P] | Targets[P][]> {
  const ids = typeof idOrIds === 'string' ? [idOrIds] : idOrIds;
  const found = await findAccessible(em, user, permission, ids);
  const fieldOf = (i: number) => (typeof options.field === 'function' ? options.field(i) : options.field);
  const rows = found.map((row, i) => {
    const field = fieldOf(i);
    if (!row) throw notFound(TARGETS[permission].what, field === undefined ? {} : { field });
    if (permission === 'patient:write' && (row as Patient).archivedAt)
      throw conflict('Patient is archived', { field: field ?? 'patientId', reason: 'PATIENT_ARCHIVED' });
    return row;
  });
  return typeof idOrIds === 'string' ? rows[0] : rows;
}
