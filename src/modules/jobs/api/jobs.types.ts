import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JobKind, JobStatus } from '../../../entities/inference-job';
import { Severity } from '../../../entities/segmentation';
import { Connection } from '../../../schema/connection';
import { Node } from '../../../schema/node';

registerEnumType(JobKind, { name: 'JobKind' });
registerEnumType(JobStatus, { name: 'JobStatus' });
registerEnumType(Severity, {
  name: 'Severity',
  description: 'From area and circularity (the table in docs/inference.md, "Severity"; thresholds in config)',
});

@InputType({
  description: 'One model of an ensemble: version defaults to the active one, weight to 1 (weights are normalised)',
})
export class EnsembleMemberInput {
  @Field(() => String) model!: string;
  @Field(() => String, { nullable: true }) version?: string | null;
  @Field(() => Float, { nullable: true, defaultValue: 1 }) weight?: number | null;
  @Field(() => String, {
    nullable: true,
    description: 'cpu, webgpu, cuda[:N], tensorrt[:N]; falls back to cpu when the provider cannot start',
  })
  device?: string | null;
}

/** How to classify: the same options for one image and for many. */
@ArgsType()
export class ClassifyOptionsArgs {
  @Field(() => [EnsembleMemberInput], { nullable: true })
  models?: EnsembleMemberInput[] | null;

  @Field(() => Boolean, { defaultValue: true })
  explain!: boolean;

  @Field(() => String, { nullable: true, description: 'Label to explain (default: the predicted one)' })
  targetClass?: string | null;
}

@InputType({
  description:
    'A ground-truth mask (an uploaded image of the same patient: grey >= 128 is lesion) for one image of the call',
})
export class GroundTruthInput {
  @Field(() => ID) imageId!: string;
  @Field(() => ID) maskImageId!: string;
}

@ObjectType('InferenceJob', { implements: Node })
export class JobType {
  @Field(() => ID) id!: string;
  @Field(() => JobKind) kind!: JobKind;
  @Field(() => JobStatus) status!: JobStatus;
  @Field(() => String, {
    description: 'queued, preprocessing, model, ensembling, metrics, gradcam, persisted, done, failed',
  })
  stage!: string;
  @Field(() => Float, { description: '0..1 over every image of the job' }) progress!: number;
  @Field(() => String, { nullable: true }) error?: string | null;
  @Field(() => Int) attempts!: number;
  @Field(() => Int) imageCount!: number;
  @Field(() => [ID], { description: 'Prediction or Segmentation ids, in image order, as they land' })
  resultIds!: string[];
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt?: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt?: Date | null;
}

@ObjectType()
export class LabelProbability {
  @Field(() => String) label!: string;
  @Field(() => Float) probability!: number;
}

@ObjectType({
  description:
    'A model that contributed: the version it ran, where it asked to run and where it ran, its normalised weight',
})
export class EnsembleMember {
  @Field(() => String) model!: string;
  @Field(() => String) version!: string;
  @Field(() => Float) weight!: number;
  @Field(() => String) requestedDevice!: string;
  @Field(() => String) device!: string;
  @Field(() => String, { nullable: true }) fallbackReason?: string | null;
}

@ObjectType('GradCam', { description: 'Where the model looked: Grad-CAM (exact through the head) or Score-CAM' })
export class GradCamType {
  @Field(() => String, { description: "'grad-cam' or 'score-cam'" }) method!: string;
  @Field(() => String, { description: 'The class explained' }) targetClass!: string;
  @Field(() => String, { description: 'model@version explained' }) model!: string;
  @Field(() => String, { description: 'Signed, short-lived URL of the colour heatmap PNG' }) heatmapUrl!: string;
  /** Internal: what overlayUrl signs. */
  files!: { imageSha256: string; mapSha256: string };
}

@ObjectType('Prediction', { implements: Node })
export class PredictionType {
  @Field(() => ID) id!: string;
  @Field(() => ID) imageId!: string;
  @Field(() => ID, { nullable: true }) patientId?: string | null;
  @Field(() => ID, { nullable: true }) jobId?: string | null;
  @Field(() => String) label!: string;
  @Field(() => Float) confidence!: number;
  @Field(() => Boolean) malignant!: boolean;
  @Field(() => Float, { description: 'Summed probability of the malignant labels' }) malignantProbability!: number;
  @Field(() => [LabelProbability]) probabilities!: LabelProbability[];
  @Field(() => [EnsembleMember]) members!: EnsembleMember[];
  @Field(() => GradCamType, { nullable: true }) gradCam?: GradCamType | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType()
export class LesionMetricsValues {
  @Field(() => Float) areaPercent!: number;
  @Field(() => Int) areaPixels!: number;
  @Field(() => Float, { description: "scikit-image's perimeter estimator, 4-neighbourhood" }) perimeterPixels!: number;
  @Field(() => Float, { description: '4*pi*A/P^2 clamped to [0, 1]' }) circularity!: number;
  @Field(() => Float) meanIntensity!: number;
  @Field(() => Float) stdIntensity!: number;
  @Field(() => Float, { nullable: true }) dice?: number | null;
  @Field(() => Float, { nullable: true }) jaccard?: number | null;
}

@ObjectType('Segmentation', { implements: Node })
export class SegmentationType {
  @Field(() => ID) id!: string;
  @Field(() => ID) imageId!: string;
  @Field(() => ID, { nullable: true }) patientId?: string | null;
  @Field(() => ID, { nullable: true }) jobId?: string | null;
  @Field(() => Float) threshold!: number;
  @Field(() => [EnsembleMember]) members!: EnsembleMember[];
  @Field(() => Int) width!: number;
  @Field(() => Int) height!: number;
  @Field(() => LesionMetricsValues) metrics!: LesionMetricsValues;
  @Field(() => Severity) severity!: Severity;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType('InferenceProgressEvent')
export class JobProgressEventType {
  @Field(() => ID) jobId!: string;
  @Field(() => Int, { description: '1, 2, ... in order over the whole job' }) seq!: number;
  @Field(() => Date) at!: Date;
  @Field(() => String) stage!: string;
  @Field(() => JobStatus) status!: JobStatus;
  @Field(() => Float) progress!: number;
  @Field(() => Int) attempt!: number;
  @Field(() => ID, { nullable: true }) imageId?: string | null;
  @Field(() => Int, { nullable: true }) imageIndex?: number | null;
  @Field(() => Int) imageCount!: number;
  @Field(() => String, { nullable: true }) model?: string | null;
  @Field(() => String, { nullable: true }) version?: string | null;
  @Field(() => String, { nullable: true }) requestedDevice?: string | null;
  @Field(() => String, { nullable: true }) device?: string | null;
  @Field(() => String, { nullable: true }) fallbackReason?: string | null;
  @Field(() => String, { nullable: true }) message?: string | null;
  @Field(() => ID, { nullable: true }) predictionId?: string | null;
  @Field(() => ID, { nullable: true }) segmentationId?: string | null;
  @Field(() => GradCamType, { nullable: true, description: 'On the gradcam stage: the map with its URLs' })
  gradCam?: GradCamType | null;
}

@ObjectType()
export class PredictionConnection extends Connection(PredictionType, 'Prediction') {}

@ObjectType()
export class SegmentationConnection extends Connection(SegmentationType, 'Segmentation') {}
