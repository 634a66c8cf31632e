import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { LocalDateResolver } from 'graphql-scalars';
import type { Lesion, Patient, User } from '../../entities';
import { DEFAULT_PAGE, MAX_PAGE, type Page } from '../../infra/pagination';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import { UserType } from '../accounts';
import { Audited, AuditAction } from '../audit';
import { PATIENT_DATA_ROLES, requireAccess } from './access-policy';
import { lesionsByPatient, sharedWithByPatient, userById } from './patients.loaders';
import { auditPatientRead, shareAudit, shareOutcome } from './patient-audit';
import * as patients from './patients.service';
import { LesionType, PatientConnection, PatientInput, PatientType } from './patients.types';

/** Patient records: listing, reading, changing, archiving and sharing them, and their own fields. */
@Resolver(() => PatientType)
export class PatientResolver {
  @Authorized(...PATIENT_DATA_ROLES)
  @Query(() => PatientConnection, {
    nullable: true,
    description:
      'Patients you own or that are shared with you (admins: all), newest first. Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  patients(
    @Arg('search', () => String, { nullable: true, description: 'Part of the display name or external id' })
    search: string | null,
    @Arg('first', () => Int, { nullable: true, description: `Page size, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` })
    first: number | null,
    @Arg('after', () => String, {
      nullable: true,
      description: 'pageInfo.endCursor of the previous page, from the same search and includeArchived',
    })
    after: string | null,
    @Arg('includeArchived', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'Also list archived records',
    })
    includeArchived: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Page<Patient>> {
    return patients.listPatients(ctx.em, user, { search, first, after, includeArchived });
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Query(() => PatientType, {
    nullable: true,
    description: 'A patient you own, that is shared with you, or (admins) any; null with NOT_FOUND in errors otherwise',
  })
  async patient(
    @Arg('id', () => ID, { description: 'Patient.id (also accepted by node(id))' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    const patient = await requireAccess(ctx.em, user, 'patient:read', id);
    await auditPatientRead(ctx, patient.id);
    return patient;
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => PatientType, { description: 'Creates a record owned by the caller' })
  createPatient(
    @Arg('input', () => PatientInput, { description: 'The record' }) input: PatientInput,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.createPatient(ctx.em, user, input);
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => PatientType, {
    description:
      'Replaces the record’s fields (owner, sharees, admins; not archived: CONFLICT, PATIENT_ARCHIVED); the timeline records which changed',
  })
  updatePatient(
    @Arg('id', () => ID, { description: 'Patient.id' }) id: string,
    @Arg('input', () => PatientInput, { description: 'Every field of the record, as it should be' })
    input: PatientInput,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.updatePatient(ctx.em, user, id, input);
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => PatientType, {
    description: 'Archives the record (owner or admin only); it is never deleted with its images',
  })
  archivePatient(
    @Arg('id', () => ID, { description: 'Patient.id; archiving an archived record changes nothing' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.archivePatient(ctx.em, user, id);
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => PatientType, { description: 'Makes an archived record changeable again (owner or admin only)' })
  unarchivePatient(
    @Arg('id', () => ID, { description: 'Patient.id; a record not archived is returned unchanged' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.unarchivePatient(ctx.em, user, id);
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Audited(AuditAction.PATIENT_SHARED, { ...shareAudit, outcome: shareOutcome(true) })
  @Mutation(() => PatientType, {
    description: 'Lets another clinician read and change the patient (owner or admin only)',
  })
  sharePatient(
    @Arg('patientId', () => ID, { description: 'Patient.id' }) patientId: string,
    @Arg('userId', () => ID, { description: 'User.id of an enabled CLINICIAN other than the owner' }) userId: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.sharePatient(ctx.em, user, patientId, userId);
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Audited(AuditAction.PATIENT_UNSHARED, { ...shareAudit, outcome: shareOutcome(false) })
  @Mutation(() => PatientType, { description: 'Takes a share back (owner or admin only)' })
  unsharePatient(
    @Arg('patientId', () => ID, { description: 'Patient.id' }) patientId: string,
    @Arg('userId', () => ID, { description: 'User.id of the sharee; one not shared with is a no-op' }) userId: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.unsharePatient(ctx.em, user, patientId, userId);
  }

  @FieldResolver(() => LocalDateResolver, {
    nullable: true,
    description: 'YYYY-MM-DD, the same LocalDate that PatientInput.dateOfBirth takes; null when not recorded',
  })
  dateOfBirth(@Root() p: Patient): string | null {
    return p.dateOfBirth ?? null;
  }

  @FieldResolver(() => UserType, { nullable: true, description: 'The clinician who created the record' })
  owner(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<User | null> {
    return userById(ctx).load(p.owner.id);
  }

  @FieldResolver(() => [UserType], { description: 'Clinicians the patient is shared with' })
  sharedWith(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<User[]> {
    return sharedWithByPatient(ctx).load(p.id);
  }

  @FieldResolver(() => Boolean, { description: 'Whether archivedAt is set: readable, not changeable' })
  archived(@Root() p: Patient): boolean {
    return !!p.archivedAt;
  }

  @FieldResolver(() => [LesionType], { description: 'Newest first' })
  lesions(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<Lesion[]> {
    return lesionsByPatient(ctx).load(p.id);
  }
}
