import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Severity } from '../../entities/segmentation';
import { Connection } from '../../schema/connection';
// The shared metric values (and the Severity enum's registration) come with the jobs' result types.
import { LesionMetricsValues, PredictionFlag } from '../jobs';

@InputType({
  description:
    'Narrows lesionMetrics and lesionMetricsSummary; the conditions given must all hold (severity does not narrow byLabel, which counts predictions)',
})
export class MetricsFilter {
  @Field(() => String, { nullable: true, description: 'Only results with a member of this model (Model.name)' })
  model?: string | null;
  @Field(() => String, { nullable: true, description: 'With model: only that model at this version (needs model)' })
  version?: string | null;
  @Field(() => Date, { nullable: true, description: 'Only results created at or after this instant' })
  since?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Only results created before this instant (exclusive)' })
  until?: Date | null;
  @Field(() => Severity, { nullable: true, description: 'Only segmentations graded so' }) severity?: Severity | null;
  @Field(() => String, { nullable: true, description: 'Label of the latest prediction of the same image' }) label?:
    string | null;
}

@ObjectType({ description: 'One segmentation, de-identified for research: ids are hashed per export' })
export class LesionMetricsRow {
  @Field(() => ID, { description: 'Hashed segmentation id (stable within one export)' }) id!: string;
  @Field(() => String, { description: 'Hashed patient id (stable within one export)' }) subject!: string;
  @Field(() => String, { description: 'Hashed image id (stable within one export)' }) image!: string;
  @Field(() => Date, { description: 'When the segmentation was made' }) createdAt!: Date;
  @Field(() => [String], { description: 'model@version of each member' }) modelVersions!: string[];
  @Field(() => LesionMetricsValues, { description: 'Measurements of the mask (docs/inference.md)' })
  metrics!: LesionMetricsValues;
  @Field(() => Severity, { description: 'Grade given when it ran' }) severity!: Severity;
  @Field(() => String, {
    nullable: true,
    description: 'Label of the image’s latest prediction; null when the image was never classified',
  })
  label?: string | null;
  @Field(() => Float, { nullable: true, description: 'That prediction’s confidence, 0..1; null without one' })
  confidence?: number | null;
  @Field(() => Boolean, { nullable: true, description: 'That prediction’s malignant call; null without one' })
  malignant?: boolean | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'Whether that prediction abstained (Prediction.abstained: label kept, not to be read as a call); null without one or when stored before the checks',
  })
  abstained?: boolean | null;
  @Field(() => [PredictionFlag], {
    description: 'Why (Prediction.flags): empty when it stands or without a prediction; [NOT_ASSESSED] on older ones',
  })
  flags!: PredictionFlag[];
}

/** A page of the de-identified export; its cursors carry the export id (see ResearchService). */
@ObjectType({ description: 'A page of the de-identified export, newest first; a first page starts a new export' })
export class LesionMetricsConnection extends Connection(
  LesionMetricsRow,
  'LesionMetrics',
  'de-identified segmentation',
) {
  @Field(() => String, {
    description:
      'Names this export (itself a hash): the same on every page read with `after`, whose cursors carry the export; hashed ids are stable within it only',
  })
  exportId!: string;
}

@ObjectType({ description: 'Segmentations of one severity' })
export class SeverityCount {
  @Field(() => Severity, { description: 'The grade' }) severity!: Severity;
  @Field(() => Int, { description: 'Segmentations matching the filter with this grade' }) count!: number;
}

@ObjectType({ description: 'Predictions of one label' })
export class LabelCount {
  @Field(() => String, { description: 'The predicted label' }) label!: string;
  @Field(() => Int, { description: 'Predictions matching the filter (severity aside) with this label' })
  count!: number;
}

@ObjectType({ description: 'Mean and percentiles (continuous, PostgreSQL percentile_cont) of one measure' })
export class Distribution {
  @Field(() => Float, { nullable: true, description: 'Mean; null when there are no values' }) mean?: number | null;
  @Field(() => Float, { nullable: true, description: '25th percentile; null when there are no values' }) p25?:
    number | null;
  @Field(() => Float, { nullable: true, description: 'Median; null when there are no values' }) p50?: number | null;
  @Field(() => Float, { nullable: true, description: '75th percentile; null when there are no values' }) p75?:
    number | null;
  @Field(() => Float, { nullable: true, description: '95th percentile; null when there are no values' }) p95?:
    number | null;
}

@ObjectType({
  description:
    'Segmentation measures of one model version (from its own masks, alone or as an ensemble member) or of one ensemble as a whole',
})
export class ModelVersionMetrics {
  @Field(() => String, {
    description:
      'model@version; for an ensemble, its members in order with their weights: `a@1.0.0 (w 0.50) + b@1.0.0 (w 0.50)`',
  })
  modelVersion!: string;
  @Field(() => Boolean, {
    description:
      'True: the figures are the ensemble’s masks. False: this version’s own masks (ensemble segmentations stored before members kept their outputs count for the ensemble only)',
  })
  ensemble!: boolean;
  @Field(() => Int, { description: 'Masks measured: segmentations by this ensemble, or masks this version made' })
  count!: number;
  @Field(() => Distribution, { description: 'Lesion area, % of the image (0..100)' }) areaPercent!: Distribution;
  @Field(() => Distribution, { description: 'Border regularity, 0..1 (1 = a disk)' }) circularity!: Distribution;
}

@ObjectType({ description: 'Aggregates over every result matching the filter (not paged)' })
export class LesionMetricsSummary {
  @Field(() => Int, { description: 'Segmentations matching the filter' }) segmentations!: number;
  @Field(() => Int, { description: 'Predictions matching the filter (severity aside): the sum of byLabel' })
  predictions!: number;
  @Field(() => [SeverityCount], { description: 'Segmentations per severity, LOW first; absent grades omitted' })
  bySeverity!: SeverityCount[];
  @Field(() => [LabelCount], { description: 'Predictions per label, by label name' }) byLabel!: LabelCount[];
  @Field(() => [ModelVersionMetrics], {
    description: 'Per model version (by model@version), then per ensemble (by its name)',
  })
  byModelVersion!: ModelVersionMetrics[];
}
