import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ReportKind, ReportStatus } from '../../entities';
import { Connection } from '../../schema/connection';
import { Node } from '../../schema/node';

registerEnumType(ReportKind, {
  name: 'ReportKind',
  description: 'What generateReport makes (docs/reports.md)',
  valuesConfig: {
    PDF: { description: 'The PDF report of one image: patient, lesion, overlays, classification, metrics, models' },
    PDFS_ZIP: { description: 'A ZIP of one PDF report per image (`<patient-external-id>/<image-id>_report.pdf`)' },
    CSV: { description: 'One CSV row per image: ids, timestamps, label, every probability, every metric, models' },
    MASKS_ZIP: {
      description: 'A ZIP of the segmentation masks (`<patient-external-id>/<image-id>_mask.png`) and a manifest',
    },
  },
});
registerEnumType(ReportStatus, {
  name: 'ReportStatus',
  description: 'Where a report is: PENDING and RUNNING may still change; DONE has a url; FAILED has an error',
  valuesConfig: {
    PENDING: { description: 'Its job is queued' },
    RUNNING: { description: 'Being written (progress says how far)' },
    DONE: { description: 'The file is ready: url downloads it' },
    FAILED: { description: 'It could not be made, or its job was cancelled; error says why' },
  },
});

@InputType({ description: 'What to report on: a kind and exactly one source of images' })
export class ReportInput {
  @Field(() => ReportKind, { description: 'What to make' }) kind!: ReportKind;

  @Field(() => [ID], {
    nullable: true,
    description: 'These images (each readable by the caller), in this order; at most REPORT_MAX_IMAGES',
  })
  imageIds?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Every image of this patient, oldest first' })
  patientId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Every image of this lesion, oldest first' })
  lesionId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The images of this classification or segmentation job' })
  jobId?: string | null;
}

@ObjectType('Report', {
  implements: Node,
  description:
    "An export of patients' images and results (generateReport); visible to whoever may read all its patients",
})
export class ReportType extends Node {
  @Field(() => ReportKind, { description: 'What it is' }) kind!: ReportKind;
  @Field(() => ReportStatus, { description: 'Where it is' }) status!: ReportStatus;
  @Field(() => Float, { description: '0..1; 1 once DONE' }) progress!: number;
  @Field(() => Int, { description: 'Images the report covers' }) imageCount!: number;
  @Field(() => String, { description: 'Name the download is offered under' }) fileName!: string;
  @Field(() => Float, { nullable: true, description: 'Size of the file in bytes, once DONE' }) bytes!: number | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Signed download URL (SIGNED_URL_TTL_SECONDS), once DONE; minted for callers who may read every patient of the report',
  })
  url!: string | null;
  @Field(() => String, { nullable: true, description: 'Why it FAILED' }) error!: string | null;
  @Field(() => ID, {
    nullable: true,
    description: 'The REPORT job making it (follow it with inferenceProgress); null when made in the request',
  })
  jobId!: string | null;
  @Field(() => Date, { description: 'When it was asked for' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When it was DONE or FAILED' }) finishedAt!: Date | null;
}

@ObjectType({ description: 'A page of reports, newest first' })
export class ReportConnection extends Connection(ReportType, 'Report') {}

@ArgsType()
export class ReportsArgs {
  @Field(() => Int, { nullable: true, description: 'Page size (default 20)' }) first?: number | null;
  @Field(() => String, { nullable: true, description: 'pageInfo.endCursor of the previous page' })
  after?: string | null;
}
