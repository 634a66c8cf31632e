import { createUnionType, Field, Float, ID, ObjectType, type ClassType } from 'type-graphql';
import { Severity, type Image } from '../../entities';
import { Connection } from '../../schema/connection';
import { LesionType } from './patients.types';

@ObjectType({ description: 'The record was created' })
export class PatientCreatedEvent {
  @Field(() => Date, { description: 'When it happened' }) at!: Date;
  @Field(() => ID, { nullable: true, description: 'User.id of who did it; null if that account was deleted' })
  actorId?: string | null;
}

@ObjectType({
  description: 'Fields of the record changed (or it was archived: field "archived"; unarchived: field "unarchived")',
})
export class PatientChangedEvent {
  @Field(() => Date, { description: 'When it happened' }) at!: Date;
  @Field(() => ID, { nullable: true, description: 'User.id of who did it; null if that account was deleted' })
  actorId?: string | null;
  @Field(() => [String], {
    description: 'PatientInput field names that changed (values not kept), or ["archived"] / ["unarchived"]',
  })
  changedFields!: string[];
}

@ObjectType({ description: 'A note was added with addPatientNote' })
export class NoteAddedEvent {
  @Field(() => ID, { description: 'Stable id of the note' }) id!: string;
  @Field(() => Date, { description: 'When it was written' }) at!: Date;
  @Field(() => ID, { nullable: true, description: 'User.id of the author; null if that account was deleted' })
  actorId?: string | null;
  @Field(() => String, { description: 'The note, trimmed' }) text!: string;
}

@ObjectType({ description: 'A lesion was recorded on the patient (createLesion)' })
export class LesionAddedEvent {
  @Field(() => Date, { description: 'When it was recorded' }) at!: Date;
  @Field(() => LesionType, { description: 'The lesion' }) lesion!: LesionType;
}

/** Its `image` field is resolved by the images module (which depends on this one, not the reverse). */
@ObjectType({ description: 'An image of the patient was uploaded' })
export class ImageUploadedEvent {
  @Field(() => Date, { description: 'When it was uploaded' }) at!: Date;
  image!: Image;
}

@ObjectType({ description: "A classification ran on one of the patient's images" })
export class PredictionEvent {
  @Field(() => Date, { description: 'When the result was stored' }) at!: Date;
  @Field(() => ID, { description: 'For prediction(id): probabilities, members, Grad-CAM' }) predictionId!: string;
  @Field(() => ID, { description: 'The image classified' }) imageId!: string;
  @Field(() => String, { description: 'The predicted label (Prediction.label)' }) label!: string;
  @Field(() => Float, { description: 'Probability of that label, 0..1' }) confidence!: number;
  @Field(() => Boolean, { description: 'Whether the ensemble called it malignant (Prediction.malignant)' })
  malignant!: boolean;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'Whether it abstained: indeterminate, label for reference only (Prediction.abstained; its flags say why); null when stored before the checks',
  })
  abstained?: boolean | null;
}

@ObjectType({ description: "A segmentation ran on one of the patient's images" })
export class SegmentationEvent {
  @Field(() => Date, { description: 'When the result was stored' }) at!: Date;
  @Field(() => ID, { description: 'For segmentation(id): mask, overlay, metrics' }) segmentationId!: string;
  @Field(() => ID, { description: 'The image segmented' }) imageId!: string;
  @Field(() => Float, { description: 'Lesion area, % of the image (0..100)' }) areaPercent!: number;
  // Severity is registered (named, described) with the jobs' result types; its values are the entity's.
  @Field(() => Severity, { description: 'The segmentation’s grade (Segmentation.severity)' }) severity!: Severity;
}

@ObjectType({ description: "A report covering the patient's images was generated (generateReport): who exported what" })
export class ReportGeneratedEvent {
  @Field(() => ID, { description: 'Stable id of the event' }) id!: string;
  @Field(() => Date, { description: 'When it was asked for' }) at!: Date;
  @Field(() => ID, { nullable: true, description: 'User.id of who generated it; null if that account was deleted' })
  actorId?: string | null;
  @Field(() => String, { description: 'What was exported, e.g. "PDF report of 1 image"' }) text!: string;
  @Field(() => ID, { description: 'For report(id); the event stays after the report is deleted' }) reportId!: string;
}

export const TimelineEvent = createUnionType({
  name: 'TimelineEvent',
  description: 'One entry of Patient.timeline; select the members you show with `... on`',
  types: () =>
    [
      PatientCreatedEvent,
      PatientChangedEvent,
      NoteAddedEvent,
      LesionAddedEvent,
      ImageUploadedEvent,
      PredictionEvent,
      SegmentationEvent,
      ReportGeneratedEvent,
    ] as const,
});
export type TimelineEvent = typeof TimelineEvent;

// The factory's node is a class; a union is a valid node type for type-graphql too.
@ObjectType({ description: "A page of a patient's timeline, newest first" })
export class TimelineConnection extends Connection(
  TimelineEvent as unknown as ClassType<TimelineEvent>,
  'Timeline',
  'timeline event',
) {}
