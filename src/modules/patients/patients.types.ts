import {
  ArgsType,
  createUnionType,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from 'type-graphql';
import { DateResolver } from 'graphql-scalars';
import { ImageFormat, Plan, Sex } from '../../entities';
import { ImageVariant } from '../images/image-processing';
import { PageInfo } from '../../schema/connection';
import { PredictionType, SegmentationType } from '../jobs/api/jobs.types';

registerEnumType(Sex, { name: 'Sex' });
registerEnumType(ImageFormat, { name: 'ImageFormat', description: 'Decided from the bytes, never from the file name' });
registerEnumType(ImageVariant, {
  name: 'ImageVariant',
  description:
    'ORIGINAL: the uploaded bytes; NORMALIZED: EXIF orientation applied, sRGB, at most 2048 px, no metadata; THUMBNAIL: at most 256 px JPEG',
});

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

@ObjectType('Image')
export class ImageType {
  @Field(() => ID)
  id!: string;

  @Field(() => ImageFormat)
  format!: ImageFormat;

  @Field(() => String)
  mimeType!: string;

  @Field(() => Float, { description: 'Size of the original in bytes' })
  byteSize!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Int, { description: 'EXIF orientation of the original (1 = upright); derived copies have it applied' })
  orientation!: number;

  @Field(() => String, { description: 'sha256 of the original bytes' })
  sha256!: string;

  @Field(() => String, { nullable: true })
  originalName?: string | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class PatientEdge {
  @Field(() => String) cursor!: string;
  @Field(() => PatientType) node!: PatientType;
}

@ObjectType()
export class PatientConnection {
  @Field(() => [PatientEdge]) edges!: PatientEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class ImageEdge {
  @Field(() => String) cursor!: string;
  @Field(() => ImageType) node!: ImageType;
}

@ObjectType()
export class ImageConnection {
  @Field(() => [ImageEdge]) edges!: ImageEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class PredictionEdge {
  @Field(() => String) cursor!: string;
  @Field(() => PredictionType) node!: PredictionType;
}

@ObjectType()
export class PredictionConnection {
  @Field(() => [PredictionEdge]) edges!: PredictionEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType()
export class SegmentationEdge {
  @Field(() => String) cursor!: string;
  @Field(() => SegmentationType) node!: SegmentationType;
}

@ObjectType()
export class SegmentationConnection {
  @Field(() => [SegmentationEdge]) edges!: SegmentationEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

// ---- timeline ----

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

@ObjectType()
export class ImageUploadedEvent {
  @Field(() => Date) at!: Date;
  @Field(() => ImageType) image!: ImageType;
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

@ObjectType()
export class TimelineEdge {
  @Field(() => String) cursor!: string;
  @Field(() => TimelineEvent) node!: typeof TimelineEvent;
}

@ObjectType()
export class TimelineConnection {
  @Field(() => [TimelineEdge]) edges!: TimelineEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

// ---- dashboard ----

@ObjectType()
export class QuotaUsage {
  @Field(() => Int) limit!: number;
  @Field(() => Int) used!: number;
  @Field(() => Int) remaining!: number;
  @Field(() => Date, { description: 'Start of next month (UTC), when the quota resets' }) resetsAt!: Date;
}

@ObjectType()
export class Dashboard {
  @Field(() => String) email!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) lastLoginAt?: Date | null;
  @Field(() => Plan) plan!: Plan;
  @Field(() => Int) totalUploads!: number;
  @Field(() => Int) totalPredictions!: number;
  @Field(() => Int) totalPatients!: number;
  @Field(() => QuotaUsage, { description: 'Images uploaded this month against the plan' }) uploadQuota!: QuotaUsage;
  @Field(() => QuotaUsage, { description: 'Predictions this month against the plan' }) predictionQuota!: QuotaUsage;
  @Field(() => QuotaUsage, { description: 'Segmented images this month against the plan' })
  segmentationQuota!: QuotaUsage;
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

/** The window with every missing argument as null (cursor tags compare nulls). */
export function historyWindow(a: HistoryArgs): {
  first: number | null;
  after: string | null;
  since: Date | null;
  until: Date | null;
} {
  return { first: a.first ?? null, after: a.after ?? null, since: a.since ?? null, until: a.until ?? null };
}
