import { createUnionType, Field, Float, ID, ObjectType, type ClassType } from 'type-graphql';
import type { Image } from '../../entities';
import { Connection } from '../../schema/connection';
import { LesionType } from './patients.types';

@ObjectType({ description: 'The record was created' })
export class PatientCreatedEvent {
  @Field(() => Date) at!: Date;
  @Field(() => ID, { nullable: true }) actorId?: string | null;
}

@ObjectType({
  description: 'Fields of the record changed (or it was archived: field "archived"; unarchived: field "unarchived")',
})
export class PatientChangedEvent {
  @Field(() => Date) at!: Date;
  @Field(() => ID, { nullable: true }) actorId?: string | null;
  @Field(() => [String]) changedFields!: string[];
}

@ObjectType()
export class NoteAddedEvent {
  @Field(() => ID) id!: string;
  @Field(() => Date) at!: Date;
  @Field(() => ID, { nullable: true }) actorId?: string | null;
  @Field(() => String) text!: string;
}

@ObjectType()
export class LesionAddedEvent {
  @Field(() => Date) at!: Date;
  @Field(() => LesionType) lesion!: LesionType;
}

/** Its `image` field is resolved by the images module (which depends on this one, not the reverse). */
@ObjectType()
export class ImageUploadedEvent {
  @Field(() => Date) at!: Date;
  image!: Image;
}

@ObjectType({ description: "A classification ran on one of the patient's images" })
export class PredictionEvent {
  @Field(() => Date) at!: Date;
  @Field(() => ID) predictionId!: string;
  @Field(() => ID) imageId!: string;
  @Field(() => String) label!: string;
  @Field(() => Float) confidence!: number;
  @Field(() => Boolean) malignant!: boolean;
}

@ObjectType({ description: "A segmentation ran on one of the patient's images" })
export class SegmentationEvent {
  @Field(() => Date) at!: Date;
  @Field(() => ID) segmentationId!: string;
  @Field(() => ID) imageId!: string;
  @Field(() => Float) areaPercent!: number;
  @Field(() => String) severity!: string;
}

export const TimelineEvent = createUnionType({
  name: 'TimelineEvent',
  types: () =>
    [
      PatientCreatedEvent,
      PatientChangedEvent,
      NoteAddedEvent,
      LesionAddedEvent,
      ImageUploadedEvent,
      PredictionEvent,
      SegmentationEvent,
    ] as const,
});
export type TimelineEvent = typeof TimelineEvent;

// The factory's node is a class; a union is a valid node type for type-graphql too.
@ObjectType()
export class TimelineConnection extends Connection(
  TimelineEvent as unknown as ClassType<TimelineEvent>,
  'Timeline',
  'timeline event',
) {}
