import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LocalDateResolver } from 'graphql-scalars';
import { Sex } from '../../entities';
import { DEFAULT_PAGE, MAX_PAGE } from '../../infra/pagination';
import { Connection } from '../../schema/connection';
import { Node } from '../../schema/node';

registerEnumType(Sex, {
  name: 'Sex',
  description: 'Sex recorded for the patient',
  valuesConfig: {
    FEMALE: { description: 'Female' },
    MALE: { description: 'Male' },
    OTHER: { description: 'Neither female nor male' },
    UNKNOWN: { description: 'Recorded as unknown (null: nothing recorded)' },
  },
});

@InputType({
  description: 'A whole patient record: updatePatient replaces every field (a missing optional one becomes null)',
})
export class PatientInput {
  @Field(() => String, {
    description:
      'Your id for the patient (MRN); unique among your patients (else CONFLICT, EXTERNAL_ID_TAKEN); 1 to 100 characters',
  })
  externalId!: string;

  @Field(() => String, { description: 'Name shown in lists; trimmed, 1 to 200 characters' })
  displayName!: string;

  @Field(() => LocalDateResolver, {
    nullable: true,
    description: 'YYYY-MM-DD: a real day, not in the future, not before 1880',
  })
  dateOfBirth?: string | null;

  @Field(() => Sex, { nullable: true, description: 'Null when not recorded' })
  sex?: Sex | null;

  @Field(() => String, {
    nullable: true,
    description: 'Free text kept on the record, at most 10,000 characters (timeline notes: addPatientNote)',
  })
  notes?: string | null;
}

@InputType({ description: 'A new lesion of a patient (createLesion)' })
export class LesionInput {
  @Field(() => String, { description: 'Where on the body, e.g. "left forearm"; 1 to 200 characters' })
  bodySite!: string;

  @Field(() => String, {
    description: 'Your name for the lesion, e.g. "mole 3"; 1 to 200 characters (not a diagnosis)',
  })
  label!: string;
}

@ObjectType('Patient', {
  description: 'Identifying data: visible to its owner, clinicians it is shared with, and admins',
  implements: Node,
})
export class PatientType {
  @Field(() => ID, { description: 'Globally unique id; what patient(id), node(id) and the patientId arguments take' })
  id!: string;

  @Field(() => String, { description: 'The owner’s id for the patient (MRN), unique per owner' })
  externalId!: string;

  @Field(() => String, { description: 'Name shown in lists' })
  displayName!: string;

  @Field(() => Sex, { nullable: true, description: 'Null when not recorded' })
  sex?: Sex | null;

  @Field(() => String, { nullable: true, description: 'Free text kept on the record; null when empty' })
  notes?: string | null;

  @Field(() => Date, { description: 'When the record was created' })
  createdAt!: Date;

  @Field(() => Date, { description: 'Last change to the record itself (not its lesions, images or results)' })
  updatedAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'When it was archived; null while active. Archived records read but do not change',
  })
  archivedAt?: Date | null;
}

@ObjectType({ description: 'A page of patients, newest first (patients)' })
export class PatientConnection extends Connection(PatientType, 'Patient') {}

@ObjectType('Lesion', {
  description: 'A spot on a patient followed over time through its images; visible to whoever sees the patient',
  implements: Node,
})
export class LesionType {
  @Field(() => ID, { description: 'Globally unique id; what lesion(id), node(id) and uploadImages(lesionId) take' })
  id!: string;

  @Field(() => String, { description: 'Where on the body, e.g. "left forearm"' })
  bodySite!: string;

  @Field(() => String, { description: 'The clinician’s name for the lesion (not a diagnosis)' })
  label!: string;

  @Field(() => Date, { description: 'When the lesion was recorded' })
  createdAt!: Date;
}

/** Paging and date window of a history connection (images, predictions, segmentations), newest first. */
@ArgsType()
export class HistoryArgs {
  @Field(() => Int, { nullable: true, description: `Page size, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'pageInfo.endCursor of the previous page, from the same field and arguments',
  })
  after?: string | null;

  @Field(() => Date, { nullable: true, description: 'Only items created at or after this instant' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only items created before this instant (exclusive)' })
  until?: Date | null;
}

/** A history of results, also filtered by model name. */
@ArgsType()
export class ResultHistoryArgs extends HistoryArgs {
  @Field(() => String, { nullable: true, description: 'Only results with this model among their members (Model.name)' })
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
