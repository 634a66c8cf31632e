import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { badInput, conflict, forbidden, notFound, type AppError } from '../../infra/errors';
import { Lesion, Patient, PatientEvent, PatientEventKind, PatientShare, Role, Sex, User } from '../../entities';
import { requireAccess, type Caller } from './access-policy';
import { countVisiblePatients, findVisiblePatients } from './patients.repository';
import { isUuid } from '../../infra/database/sql';
import { keyset, keysetPage, queryTag, type Page } from '../../infra/pagination';

export interface PatientInputData {
  externalId: string;
  displayName: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string | null;
  sex?: Sex | null;
  notes?: string | null;
}

export interface LesionInputData {
  bodySite: string;
  label: string;
}

/** A text input trimmed; too long, or empty when required, is BAD_USER_INPUT. */
function text(field: string, value: unknown, max: number, required: boolean): string | null {
  if (value === null || value === undefined) {
    if (required) throw badInput(field, `${field} is required`);
    return null;
  }
  const v = String(value).trim();
  if (required && v.length === 0) throw badInput(field, `${field} must not be empty`);
  if (v.length > max) throw badInput(field, `${field} is longer than ${max} characters`);
  return v.length ? v : null;
}

/** Checks and trims a PatientInput; a date of birth must be a real day, not in the future. */
export function cleanPatientInput(input: PatientInputData, today = new Date()): Required<PatientInputData> {
  const dob = input.dateOfBirth ?? null;
  if (dob !== null) {
    const d = new Date(`${dob}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(dob) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== dob)
      throw badInput('input.dateOfBirth', 'dateOfBirth must be a real date (YYYY-MM-DD)');
    if (d.getTime() > today.getTime() || d.getUTCFullYear() < 1880)
      throw badInput('input.dateOfBirth', 'dateOfBirth is out of range');
  }
  if (input.sex != null && !Object.values(Sex).includes(input.sex)) throw badInput('input.sex', 'Unknown sex');
  return {
    externalId: text('input.externalId', input.externalId, 100, true)!,
    displayName: text('input.displayName', input.displayName, 200, true)!,
    dateOfBirth: dob,
    sex: input.sex ?? null,
    notes: text('input.notes', input.notes, 10_000, false),
  };
}

function duplicateExternalId(): AppError {
  return conflict('You already have a patient with this external id', {
    field: 'input.externalId',
    reason: 'EXTERNAL_ID_TAKEN',
  });
}

/** Flushes a patient change; the per-owner external-id uniqueness becomes a CONFLICT. */
async function flushPatient(em: EntityManager): Promise<void> {
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw duplicateExternalId();
    throw err;
  }
}

export async function createPatient(em: EntityManager, user: Caller, input: PatientInputData): Promise<Patient> {
  const data = cleanPatientInput(input);
  const now = new Date();
  const patient = em.create(Patient, { ...data, owner: user.id, createdAt: now, updatedAt: now });
  em.create(PatientEvent, { patient, actor: user.id, kind: PatientEventKind.PATIENT_CREATED, createdAt: now });
  await flushPatient(em);
  return patient;
}

export async function updatePatient(
  em: EntityManager,
  user: Caller,
  id: string,
  input: PatientInputData,
): Promise<Patient> {
  const patient = await requireAccess(em, user, 'patient:write', id);
  const data = cleanPatientInput(input);
  const changed = (Object.keys(data) as (keyof typeof data)[]).filter(
    (k) => (patient[k] ?? null) !== (data[k] ?? null),
  );
  if (changed.length === 0) return patient;
  em.assign(patient, data);
  em.create(PatientEvent, {
    patient,
    actor: user.id,
    kind: PatientEventKind.PATIENT_CHANGED,
    changedFields: changed,
    createdAt: new Date(),
  });
  await flushPatient(em);
  return patient;
}

/** The owner of a patient, or an admin: who may archive, unarchive and share it (a sharee may not). */
function assertOwnerOrAdmin(user: Caller, patient: Patient, message: string): void {
  if (user.role !== Role.ADMIN && patient.owner.id !== user.id) throw forbidden(message);
}

/** Sets or clears `archivedAt` with a timeline event (changedFields "archived" / "unarchived"); a repeat is a no-op. */
async function setArchived(em: EntityManager, user: Caller, id: string, archived: boolean): Promise<Patient> {
  const patient = await requireAccess(em, user, 'patient:read', id);
  assertOwnerOrAdmin(
    user,
    patient,
    `Only the owner of a patient (or an admin) can ${archived ? 'archive' : 'unarchive'} it`,
  );
  if (!!patient.archivedAt === archived) return patient;
  const now = new Date();
  patient.archivedAt = archived ? now : null;
  em.create(PatientEvent, {
    patient,
    actor: user.id,
    kind: PatientEventKind.PATIENT_CHANGED,
    changedFields: [archived ? 'archived' : 'unarchived'],
    createdAt: now,
  });
  await em.flush();
  return patient;
}

/** Archives a record (never deleted: its images and history stay). Owner or admin only. */
export function archivePatient(em: EntityManager, user: Caller, id: string): Promise<Patient> {
  return setArchived(em, user, id, true);
}

/** Makes an archived record changeable again. Owner or admin only. */
export function unarchivePatient(em: EntityManager, user: Caller, id: string): Promise<Patient> {
  return setArchived(em, user, id, false);
}

/** Lets another clinician read and change a patient. Only the owner (or an admin) may share. */
export async function sharePatient(
  em: EntityManager,
  user: Caller,
  patientId: string,
  userId: string,
): Promise<Patient> {
  const patient = await requireAccess(em, user, 'patient:read', patientId);
  assertOwnerOrAdmin(user, patient, 'Only the owner of a patient can share it');
  if (!isUuid(userId)) throw notFound('User');
  const target = await em.findOne(User, { id: userId });
  if (!target || target.disabledAt) throw notFound('User');
  if (target.role !== Role.CLINICIAN) throw badInput('userId', 'Patients can only be shared with clinicians');
  if (target.id === patient.owner.id) throw badInput('userId', 'The owner already has access');
  const exists = await em.count(PatientShare, { patient: patient.id, user: target.id });
  if (!exists) {
    em.create(PatientShare, { patient, user: target, sharedBy: user.id, createdAt: new Date() });
    await em.flush();
  }
  return patient;
}

/** Takes a share back (owner or admin). Unknown or not-shared users are a no-op, as the result is the same. */
export async function unsharePatient(
  em: EntityManager,
  user: Caller,
  patientId: string,
  userId: string,
): Promise<Patient> {
  const patient = await requireAccess(em, user, 'patient:read', patientId);
  assertOwnerOrAdmin(user, patient, 'Only the owner of a patient can change who it is shared with');
  if (isUuid(userId)) await em.nativeDelete(PatientShare, { patient: patient.id, user: userId });
  return patient;
}

export async function addPatientNote(
  em: EntityManager,
  user: Caller,
  patientId: string,
  note: string,
): Promise<PatientEvent> {
  const patient = await requireAccess(em, user, 'patient:write', patientId);
  const body = text('text', note, 10_000, true)!;
  const event = em.create(PatientEvent, {
    patient,
    actor: user.id,
    kind: PatientEventKind.NOTE_ADDED,
    text: body,
    createdAt: new Date(),
  });
  await em.flush();
  return event;
}

export async function createLesion(
  em: EntityManager,
  user: Caller,
  patientId: string,
  input: LesionInputData,
): Promise<Lesion> {
  const patient = await requireAccess(em, user, 'patient:write', patientId);
  const now = new Date();
  const lesion = em.create(Lesion, {
    patient,
    bodySite: text('input.bodySite', input.bodySite, 200, true)!,
    label: text('input.label', input.label, 200, true)!,
    createdBy: user.id,
    createdAt: now,
    updatedAt: now,
  });
  await em.flush();
  return lesion;
}

/** Patients the caller may see, newest first; `search` matches the name or the external id (MRN). */
export async function listPatients(
  em: EntityManager,
  user: Caller,
  args: { search?: string | null; includeArchived?: boolean | null; first?: number | null; after?: string | null },
): Promise<Page<Patient>> {
  const search = args.search?.trim() || null;
  if (search && search.length > 200) throw badInput('search', 'search is longer than 200 characters');
  const includeArchived = !!args.includeArchived;
  const tag = queryTag(['patients', user.id, search, includeArchived]);
  const k = keyset(tag, args);
  const rows = await findVisiblePatients(em, user, {
    search,
    includeArchived,
    tag,
    after: args.after,
    take: k.limit + 1,
  });
  return keysetPage(
    tag,
    rows,
    k,
    (r) => r,
    () => countVisiblePatients(em, user, { search, includeArchived }),
  );
}
