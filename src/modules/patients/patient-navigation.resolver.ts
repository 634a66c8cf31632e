import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { User } from '../../entities';
import type { AppContext } from '../../schema/context';
import type { NodeSource } from '../../schema/node';
import { UserType, userById } from '../accounts';
import { accessibleById } from './access.loaders';
import { auditPatientRead } from './patient-audit';
import { NoteAddedEvent, PatientChangedEvent, PatientCreatedEvent } from './timeline.types';

/** `node(id)` for patients and lesions: the rule of `patient(id)` and `lesion(id)` (owner, current sharees, admins). */
export const patientNodes: NodeSource[] = [
  {
    type: 'Patient',
    table: 'patients',
    load: async (ctx, id) => {
      const patient = await accessibleById(ctx, 'patient:read').load(id);
      if (patient) await auditPatientRead(ctx, patient.id);
      return patient;
    },
  },
  { type: 'Lesion', table: 'lesions', load: (ctx, id) => accessibleById(ctx, 'lesion:read').load(id) },
];

/** Who acted: shown with the patient's timeline, like Patient.owner and Patient.sharedWith. */
const actorOf = (e: { actorId?: string | null }, ctx: AppContext): Promise<User | null> | null =>
  e.actorId ? userById(ctx).load(e.actorId) : null;

const ACTOR = {
  nullable: true,
  description: 'The user who acted (`actorId`); null when unknown or the account was deleted',
} as const;

@Resolver(() => PatientCreatedEvent)
export class PatientCreatedActorResolver {
  @FieldResolver(() => UserType, ACTOR)
  actor(@Root() e: PatientCreatedEvent, @Ctx() ctx: AppContext): Promise<User | null> | null {
    return actorOf(e, ctx);
  }
}

@Resolver(() => PatientChangedEvent)
export class PatientChangedActorResolver {
  @FieldResolver(() => UserType, ACTOR)
  actor(@Root() e: PatientChangedEvent, @Ctx() ctx: AppContext): Promise<User | null> | null {
    return actorOf(e, ctx);
  }
}

@Resolver(() => NoteAddedEvent)
export class NoteAddedActorResolver {
  @FieldResolver(() => UserType, ACTOR)
  actor(@Root() e: NoteAddedEvent, @Ctx() ctx: AppContext): Promise<User | null> | null {
    return actorOf(e, ctx);
  }
}
