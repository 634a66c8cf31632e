import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../../infra/errors';
import { Image, Lesion, Patient, PatientShare, Role } from '../../entities';

/** The caller as the access rules need it (ctx.user has this shape). */
export interface Caller {
  id: string;
  role: Role | `${Role}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: unknown): id is string => typeof id === 'string' && UUID.test(id);

/** A PostgreSQL uuid[] literal of the ids that are uuids (knex would spread a JS array into a list). */
export function uuidArray(ids: readonly string[]): string {
  return `{${ids.filter(isUuid).join(',')}}`;
}

/**
 * Who may see a patient: its owner, clinicians it is shared with, and admins. Researchers see no
 * identifying patient data at all. Everyone else gets NOT_FOUND, never a hint that the id exists.
 */
export function canSeeAllPatients(user: Caller): boolean {
  return user.role === Role.ADMIN;
}

/**
 * SQL condition (for a query builder's `andWhere`) selecting the patients `user` may see, on the
 * patients table aliased `alias`; null when the user may see none (researchers).
 */
export function visiblePatientsSql(user: Caller, alias: string): { sql: string; params: unknown[] } | null {
  if (user.role === Role.ADMIN) return { sql: 'true', params: [] };
  if (user.role !== Role.CLINICIAN) return null;
  return {
    sql: `(${alias}.owner_id = ? or exists (select 1 from patient_shares s where s.patient_id = ${alias}.id and s.user_id = ?))`,
    params: [user.id, user.id],
  };
}

/**
 * As visiblePatientsSql, for rows that name their patient by a plain uuid (`patientIdSql`, e.g.
 * `r.patient_id` of predictions and segmentations): their patient is one `user` may see now
 * (admin, owner, current sharee). Null when the user may see none.
 */
export function visiblePatientIdSql(user: Caller, patientIdSql: string): { sql: string; params: unknown[] } | null {
  if (user.role === Role.ADMIN) return { sql: 'true', params: [] };
  const visible = visiblePatientsSql(user, 'vp');
  if (!visible) return null;
  return {
    sql: `exists (select 1 from patients vp where vp.id = ${patientIdSql} and ${visible.sql})`,
    params: visible.params,
  };
}

async function loadVisiblePatient(em: EntityManager, user: Caller, patientId: string): Promise<Patient> {
  if (!isUuid(patientId) || user.role === Role.RESEARCHER) throw notFound('Patient');
  const patient = await em.findOne(Patient, { id: patientId });
  if (!patient) throw notFound('Patient');
  if (user.role === Role.ADMIN || patient.owner.id === user.id) return patient;
  if (user.role === Role.CLINICIAN) {
    const share = await em.count(PatientShare, { patient: patientId, user: user.id });
    if (share > 0) return patient;
  }
  throw notFound('Patient');
}

/** The patient, when `user` may read it; NOT_FOUND otherwise. Archived patients stay readable. */
export async function assertCanReadPatient(em: EntityManager, user: Caller, patientId: string): Promise<Patient> {
  return loadVisiblePatient(em, user, patientId);
}

/** As assertCanReadPatient, and the patient must not be archived (CONFLICT). */
export async function assertCanWritePatient(em: EntityManager, user: Caller, patientId: string): Promise<Patient> {
  const patient = await loadVisiblePatient(em, user, patientId);
  if (patient.archivedAt)
    throw new AppError('CONFLICT', 'Patient is archived', { field: 'patientId', reason: 'PATIENT_ARCHIVED' });
  return patient;
}

/** The image, when `user` may read its patient; NOT_FOUND otherwise. */
export async function assertCanReadImage(em: EntityManager, user: Caller, imageId: string): Promise<Image> {
  if (!isUuid(imageId) || user.role === Role.RESEARCHER) throw notFound('Image');
  const image = await em.findOne(Image, { id: imageId });
  if (!image) throw notFound('Image');
  try {
    await loadVisiblePatient(em, user, image.patient.id);
  } catch {
    throw notFound('Image');
  }
  return image;
}

/** An image as inference needs it: its stored file and its patient. */
export interface ImageRef {
  id: string;
  sha256: string;
  patientId: string;
}

/**
 * Each of `ids` as an ImageRef, in order, checked in one statement (image joined to a patient the
 * caller may see). The first that is not a readable image is NOT_FOUND with its field (`field[i]`),
 * the same answer whether it does not exist or belongs to someone else.
 */
export async function assertCanReadImages(
  em: EntityManager,
  user: Caller,
  ids: readonly string[],
  field: (i: number) => string,
): Promise<ImageRef[]> {
  const visible = visiblePatientsSql(user, 'p');
  const rows = visible
    ? ((await em.execute(
        `select i.id, i.sha256, i.patient_id as "patientId" from images i join patients p on p.id = i.patient_id where i.id = any(?::uuid[]) and ${visible.sql}`,
        [uuidArray(ids), ...visible.params],
      )) as ImageRef[])
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id, i) => {
    const ref = isUuid(id) ? byId.get(id.toLowerCase()) : undefined;
    if (!ref) throw new AppError('NOT_FOUND', 'Image not found', { field: field(i) });
    return ref;
  });
}

/** The lesion, when `user` may read its patient; NOT_FOUND otherwise. */
export async function assertCanReadLesion(em: EntityManager, user: Caller, lesionId: string): Promise<Lesion> {
  if (!isUuid(lesionId) || user.role === Role.RESEARCHER) throw notFound('Lesion');
  const lesion = await em.findOne(Lesion, { id: lesionId });
  if (!lesion) throw notFound('Lesion');
  try {
    await loadVisiblePatient(em, user, lesion.patient.id);
  } catch {
    throw notFound('Lesion');
  }
  return lesion;
}
