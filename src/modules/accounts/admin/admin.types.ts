import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Plan, Role } from '../../../entities/user';
import { Connection } from '../../../schema/connection';
import { UserType } from '../user.types';

@InputType({ description: 'Narrows users; the conditions given must all hold' })
export class UserFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Part of the email or name, case-insensitive, matched literally (% and _ too); at most 200 characters',
  })
  search?: string | null;

  @Field(() => Role, { nullable: true, description: 'Only accounts with this role' })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only disabled accounts; false: only enabled ones' })
  disabled?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: only deleted (anonymised) accounts; false or omitted: only accounts not deleted',
  })
  deleted?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: only invitations not accepted yet; false: only accounts that are not a pending invitation',
  })
  invitationPending?: boolean | null;
}

@InputType({ description: 'inviteUser: the account to create; its owner chooses the password through the mailed link' })
export class InviteUserInput {
  @Field(() => String, { description: 'Where the invitation goes; trimmed and lower-cased; must not have an account' })
  email!: string;

  @Field(() => String, { nullable: true, description: 'Display name, at most 200 characters' })
  name?: string | null;

  @Field(() => Role, { nullable: true, description: 'Default CLINICIAN' })
  role?: Role | null;

  @Field(() => Plan, { nullable: true, description: 'Default FREE' })
  plan?: Plan | null;
}

export enum DeletionOutcome {
  DELETED = 'DELETED',
  ANONYMISED = 'ANONYMISED',
}
registerEnumType(DeletionOutcome, {
  name: 'DeletionOutcome',
  description: 'What deleteUser did with the account row',
  valuesConfig: {
    DELETED: { description: 'Removed: nothing (patients, images, results, jobs, reports, timeline) pointed at it' },
    ANONYMISED: {
      description:
        'Kept for the records that point at it, without email, name, password, sessions, links, 2FA or shares; it never signs in again',
    },
  },
});

@ObjectType('UserDeletion', { description: 'What deleteUser did' })
export class UserDeletionType {
  @Field(() => ID, { description: 'The deleted account' })
  userId!: string;

  @Field(() => DeletionOutcome, { description: 'Whether the row was removed or kept anonymised' })
  outcome!: DeletionOutcome;

  @Field(() => Int, { description: 'Patients now owned by the successor (ACCOUNT_DELETION_PATIENTS=transfer)' })
  patientsTransferred!: number;

  @Field(() => Int, { description: 'Patients archived (ACCOUNT_DELETION_PATIENTS=archive)' })
  patientsArchived!: number;

  @Field(() => ID, { nullable: true, description: 'Who took the patients over; null when none moved' })
  successorId?: string | null;
}

@ObjectType('UserUsage', { description: 'What an account used in the current calendar month (UTC)' })
export class UserUsageType {
  @Field(() => Date, { description: 'The start of the month counted (UTC midnight of its first day)' })
  since!: Date;

  @Field(() => Int, { description: 'Images uploaded' })
  uploads!: number;

  @Field(() => Int, { description: 'Predictions stored (what the monthly quota counts)' })
  predictions!: number;

  @Field(() => Int, { description: 'Segmentations stored (what the monthly quota counts)' })
  segmentations!: number;

  @Field(() => Int, { description: 'Reports generated (still kept)' })
  reports!: number;
}

@ObjectType({ description: 'A page of accounts, newest first (users)' })
export class UserConnection extends Connection(UserType, 'User') {}
