import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Severity } from '../../entities/segmentation';
import { Connection } from '../../schema/connection';
// The shared metric values (and the Severity enum's registration) come with the jobs' result types.
import { LesionMetricsValues } from '../jobs';

@InputType()
export class MetricsFilter {
  @Field(() => String, { nullable: true, description: 'Segmentations with a member of this model' }) model?:
    string | null;
  @Field(() => String, { nullable: true }) version?: string | null;
  @Field(() => Date, { nullable: true }) from?: Date | null;
  @Field(() => Date, { nullable: true }) to?: Date | null;
  @Field(() => Severity, { nullable: true }) severity?: Severity | null;
  @Field(() => String, { nullable: true, description: 'Label of the latest prediction of the same image' }) label?:
    string | null;
}

@ObjectType({ description: 'One segmentation, de-identified for research: ids are hashed per export' })
export class LesionMetricsRow {
  @Field(() => ID, { description: 'Hashed segmentation id (stable within one export)' }) id!: string;
  @Field(() => String, { description: 'Hashed patient id (stable within one export)' }) subject!: string;
  @Field(() => String, { description: 'Hashed image id (stable within one export)' }) image!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => [String], { description: 'model@version of each member' }) modelVersions!: string[];
  @Field(() => LesionMetricsValues) metrics!: LesionMetricsValues;
  @Field(() => Severity) severity!: Severity;
  @Field(() => String, { nullable: true }) label?: string | null;
  @Field(() => Float, { nullable: true }) confidence?: number | null;
  @Field(() => Boolean, { nullable: true }) malignant?: boolean | null;
}

/** A page of the de-identified export; its cursors carry the export id (see ResearchService). */
@ObjectType()
export class LesionMetricsConnection extends Connection(LesionMetricsRow, 'LesionMetrics', "lesion's measurements") {
  @Field(() => String, {
    description: 'Export id: the salt of the hashed ids; pass it back with `after` to keep ids stable across pages',
  })
  exportId!: string;
}

@ObjectType()
export class SeverityCount {
  @Field(() => Severity) severity!: Severity;
  @Field(() => Int) count!: number;
}

@ObjectType()
export class LabelCount {
  @Field(() => String) label!: string;
  @Field(() => Int) count!: number;
}

@ObjectType()
export class Distribution {
  @Field(() => Float, { nullable: true }) mean?: number | null;
  @Field(() => Float, { nullable: true }) p25?: number | null;
  @Field(() => Float, { nullable: true }) p50?: number | null;
  @Field(() => Float, { nullable: true }) p75?: number | null;
  @Field(() => Float, { nullable: true }) p95?: number | null;
}

@ObjectType()
export class ModelVersionMetrics {
  @Field(() => String, { description: 'model@version' }) modelVersion!: string;
  @Field(() => Int) count!: number;
  @Field(() => Distribution) areaPercent!: Distribution;
  @Field(() => Distribution) circularity!: Distribution;
}

@ObjectType()
export class LesionMetricsSummary {
  @Field(() => Int) segmentations!: number;
  @Field(() => Int) predictions!: number;
  @Field(() => [SeverityCount]) bySeverity!: SeverityCount[];
  @Field(() => [LabelCount]) byLabel!: LabelCount[];
  @Field(() => [ModelVersionMetrics]) byModelVersion!: ModelVersionMetrics[];
}
