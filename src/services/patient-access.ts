import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, notFound } from '../errors';
import { Image, Lesion, Patient, PatientShare, Role } from '../entities';

/** The caller as the access rules need it (ctx.user has this shape). */
export interface Caller {
  id: string;
  role: Role | `${Role}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: unknown): id is string => typeof id === 'string' && UUID.test(id);

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
  if (patient.archivedAt) throw new AppError('CONFLICT', 'Patient is archived', { field: 'patientId', reason: 'PATIENT_ARCHIVED' });
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
