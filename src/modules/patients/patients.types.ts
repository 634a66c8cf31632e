import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateResolver } from 'graphql-scalars';
import { Sex } from '../../entities';
import { Connection } from '../../schema/connection';

registerEnumType(Sex, { name: 'Sex' });

@InputType()
export class PatientInput {
  @Field(() => String, { description: 'Your id for the patient (MRN); unique among your patients' })
  externalId!: string;

  @Field(() => String)
  displayName!: string;

  @Field(() => DateResolver, { nullable: true })
  dateOfBirth?: Date | null;

  @Field(() => Sex, { nullable: true })
  sex?: Sex | null;

  @Field(() => String, { nullable: true })
  notes?: string | null;
}

@InputType()
export class LesionInput {
  @Field(() => String, { description: 'Where on the body, e.g. "left forearm"' })
  bodySite!: string;

  @Field(() => String)
  label!: string;
}

@ObjectType('Patient', {
  description: 'Identifying data: visible to its owner, clinicians it is shared with, and admins',
})
export class PatientType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  externalId!: string;

  @Field(() => String)
  displayName!: string;

  @Field(() => Sex, { nullable: true })
  sex?: Sex | null;

  @Field(() => String, { nullable: true })
  notes?: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  archivedAt?: Date | null;
}

@ObjectType()
export class PatientConnection extends Connection(PatientType, 'Patient') {}

@ObjectType('Lesion')
export class LesionType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  bodySite!: string;

  @Field(() => String)
  label!: string;

  @Field(() => Date)
  createdAt!: Date;
}

/** Paging and date window of a history connection (images, predictions, segmentations), newest first. */
@ArgsType()
export class HistoryArgs {
  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}

/** A history of results, also filtered by model name. */
@ArgsType()
export class ResultHistoryArgs extends HistoryArgs {
  @Field(() => String, { nullable: true })
  model?: string | null;
}

/** The window of a history connection, every missing argument as null (cursor tags compare nulls). */
export interface HistoryWindow {
  first: number | null;
  after: string | null;
  since: Date | null;
  until: Date | null;
}

export function historyWindow(a: HistoryArgs): HistoryWindow {
  return { first: a.first ?? null, after: a.after ?? null, since: a.since ?? null, until: a.until ?? null };
}
