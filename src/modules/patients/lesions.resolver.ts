import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Lesion, Patient } from '../../entities';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import { PATIENT_DATA_ROLES, requireAccess } from './access-policy';
import { patientById } from './patients.loaders';
import { createLesion } from './patients.service';
import { LesionInput, LesionType, PatientType } from './patients.types';

/** Lesions: a body site of a patient followed over time (its images: the images module). */
@Resolver(() => LesionType)
export class LesionResolver {
  @Authorized(...PATIENT_DATA_ROLES)
  @Query(() => LesionType, {
    nullable: true,
    description: 'A lesion of a patient you can see; NOT_FOUND otherwise (admins and clinicians)',
  })
  lesion(
    @Arg('id', () => ID, { description: 'Lesion.id' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Lesion> {
    return requireAccess(ctx.em, user, 'lesion:read', id);
  }

  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => LesionType, {
    description: 'Records a lesion on a patient you may change (CONFLICT, PATIENT_ARCHIVED on archived ones)',
  })
  createLesion(
    @Arg('patientId', () => ID, { description: 'The patient (Patient.id)' }) patientId: string,
    @Arg('input', () => LesionInput, { description: 'Body site and label' }) input: LesionInput,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Lesion> {
    return createLesion(ctx.em, user, patientId, input);
  }

  @FieldResolver(() => PatientType, { description: 'The patient the lesion belongs to' })
  async patient(@Root() l: Lesion, @Ctx() ctx: AppContext): Promise<Patient> {
    return (await patientById(ctx).load(l.patient.id))!;
  }
}
