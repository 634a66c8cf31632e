import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JobKind, JobStatus } from '../../../entities/inference-job';
import { Severity } from '../../../entities/segmentation';
import { Connection } from '../../../schema/connection';
import { Node } from '../../../schema/node';
import { DeviceInput, DeviceType } from '../../../models-registry';
import { GradCamMethod, JobStage } from './job-enums';

registerEnumType(JobKind, { name: 'JobKind' });
registerEnumType(JobStatus, { name: 'JobStatus' });
registerEnumType(Severity, {
  name: 'Severity',
  description: 'From area and circularity (the table in docs/inference.md, "Severity"; thresholds in config)',
  valuesConfig: {
    LOW: { description: 'A small lesion with a regular border, or an empty mask' },
    MODERATE: { description: 'Neither LOW nor HIGH' },
    HIGH: {
      description: 'A large lesion (SEVERITY_LARGE_AREA_PERCENT) or an irregular border (SEVERITY_LOW_CIRCULARITY)',
    },
  },
});

@InputType({
  description: 'One model of an ensemble: version defaults to the active one, weight to 1 (weights are normalised)',
})
export class EnsembleMemberInput {
  @Field(() => String) model!: string;
  @Field(() => String, { nullable: true }) version?: string | null;
  @Field(() => Float, { nullable: true, defaultValue: 1 }) weight?: number | null;
  @Field(() => DeviceInput, {
    nullable: true,
    description: 'Where to run this member; falls back to CPU when the provider cannot start (default: its placement)',
  })
  device?: DeviceInput | null;
}

/** How to classify: the same options for one image and for many. */
@ArgsType()
export class ClassifyOptionsArgs {
  @Field(() => [EnsembleMemberInput], {
    nullable: true,
    description:
      'The ensemble, 1 to 8 members sharing one label list; default: DEFAULT_CLASSIFIER (or the first active classification model)',
  })
  models?: EnsembleMemberInput[] | null;

  @Field(() => Boolean, {
    defaultValue: true,
    description: 'Also compute a Grad-CAM (or Score-CAM) map on the heaviest member that exposes a feature map',
  })
  explain!: boolean;

  @Field(() => String, { nullable: true, description: 'Label to explain (default: the predicted one)' })
  targetClass?: string | null;
}

@InputType({
  description:
    'A ground-truth mask (an uploaded image of the same patient: grey >= 128 is lesion) for one image of the call',
})
export class GroundTruthInput {
  @Field(() => ID, { description: 'An image of the call (one of imageIds); at most one ground truth per image' })
  imageId!: string;
  @Field(() => ID, { description: 'The uploaded mask image, resized nearest-neighbour to the image' })
  maskImageId!: string;
}

@ObjectType('InferenceJob', {
  implements: Node,
  description:
    'One classification or segmentation call over its images; seen by admins and by whoever queued it while they may see its patients',
})
export class JobType {
  @Field(() => ID) id!: string;
  @Field(() => JobKind) kind!: JobKind;
  @Field(() => JobStatus) status!: JobStatus;
  @Field(() => JobStage, { description: 'The last stage reached' })
  stage!: JobStage;
  @Field(() => Float, { description: '0..1 over every image of the job' }) progress!: number;
  @Field(() => String, { nullable: true }) error?: string | null;
  @Field(() => Int) attempts!: number;
  @Field(() => Int) imageCount!: number;
  @Field(() => [ID], { description: 'Prediction or Segmentation ids, in image order, as they land' })
  resultIds!: string[];
  @Field(() => Date, { description: 'When it was queued' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When a runner first took it; null while queued' })
  startedAt?: Date | null;
  @Field(() => Date, { nullable: true, description: 'When it ended; null until SUCCEEDED, FAILED or CANCELLED' })
  finishedAt?: Date | null;
}

@ObjectType({ description: 'One label of the classifier and the ensemble’s probability for it' })
export class LabelProbability {
  @Field(() => String, { description: 'A label of the model (ModelVersion.labels)' }) label!: string;
  @Field(() => Float, { description: 'Probability, 0..1; over all labels they sum to 1' }) probability!: number;
}

@ObjectType({
  description:
    'A model that contributed: the version it ran, where it asked to run and where it ran, its normalised weight',
})
export class EnsembleMember {
  @Field(() => String) model!: string;
  @Field(() => String) version!: string;
  @Field(() => Float) weight!: number;
  @Field(() => DeviceType, { description: 'Device asked for (the member input, else the version’s placement)' })
  requestedDevice!: DeviceType;
  @Field(() => DeviceType, { description: 'Device the model actually ran on' }) device!: DeviceType;
  @Field(() => String, { nullable: true }) fallbackReason?: string | null;
}

@ObjectType('GradCam', { description: 'Where the model looked: Grad-CAM (exact through the head) or Score-CAM' })
export class GradCamType {
  @Field(() => GradCamMethod, { description: 'Grad-CAM, or Score-CAM when the head cannot be differentiated' })
  method!: GradCamMethod;
  @Field(() => String, { description: 'The class explained' }) targetClass!: string;
  @Field(() => String, { description: 'model@version explained' }) model!: string;
  @Field(() => String, { description: 'Signed, short-lived URL of the colour heatmap PNG' }) heatmapUrl!: string;
  /** Internal: what overlayUrl signs. */
  files!: { imageSha256: string; mapSha256: string };
}

@ObjectType('Prediction', {
  implements: Node,
  description:
    'A classification of one image by an ensemble (docs/inference.md, "Classification"); visible to whoever may see the patient now',
})
export class PredictionType {
  @Field(() => ID, { description: 'Globally unique id; what prediction(id) and node(id) take' }) id!: string;
  @Field(() => ID, { description: 'The image classified (Image.id)' }) imageId!: string;
  @Field(() => ID, { nullable: true, description: 'The image’s patient (Patient.id); null if not recorded' })
  patientId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The job that made it; null once that job record is gone' })
  jobId?: string | null;
  @Field(() => String, { description: 'The most probable label (the first on a tie)' }) label!: string;
  @Field(() => Float, { description: 'Probability of label, 0..1' }) confidence!: number;
  @Field(() => Boolean, {
    description: "malignantProbability >= the model's decisionThreshold (default 0.5)",
  })
  malignant!: boolean;
  @Field(() => Float, { description: 'Summed probability of the malignant labels' }) malignantProbability!: number;
  @Field(() => [LabelProbability], { description: 'Every label with its probability, in the model’s label order' })
  probabilities!: LabelProbability[];
  @Field(() => [EnsembleMember], { description: 'The models that voted, with the versions and devices that ran' })
  members!: EnsembleMember[];
  @Field(() => GradCamType, {
    nullable: true,
    description: 'The explanation map; null when explain was false or no member exposes a feature map',
  })
  gradCam?: GradCamType | null;
  @Field(() => Date, { description: 'When the result was stored' }) createdAt!: Date;
}

@ObjectType({
  description:
    'Measurements of a segmentation mask at the image’s resolution (docs/inference.md, "Mask measurements"); an empty mask gives 0s',
})
export class LesionMetricsValues {
  @Field(() => Float, { description: 'Lesion area, % of the whole image (0..100)' }) areaPercent!: number;
  @Field(() => Int, { description: 'Lesion area in pixels' }) areaPixels!: number;
  @Field(() => Float, { description: "scikit-image's perimeter estimator, 4-neighbourhood" }) perimeterPixels!: number;
  @Field(() => Float, { description: '4*pi*A/P^2 clamped to [0, 1]' }) circularity!: number;
  @Field(() => Float, { description: 'Mean grey level inside the lesion, 0..255' }) meanIntensity!: number;
  @Field(() => Float, { description: 'Population standard deviation of that grey level' }) stdIntensity!: number;
  @Field(() => Float, {
    nullable: true,
    description: 'Dice overlap with the ground-truth mask, 0..1; null without one (segmentImages groundTruth)',
  })
  dice?: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'Jaccard index (IoU) with the ground-truth mask, 0..1; null without one',
  })
  jaccard?: number | null;
}

@ObjectType('Segmentation', {
  implements: Node,
  description:
    'A lesion mask of one image from a weighted ensemble, with its measurements; visible to whoever may see the patient now',
})
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
  @Field(() => JobStage, { description: 'The step reached' }) stage!: JobStage;
  @Field(() => JobStatus) status!: JobStatus;
  @Field(() => Float) progress!: number;
  @Field(() => Int) attempt!: number;
  @Field(() => ID, { nullable: true }) imageId?: string | null;
  @Field(() => Int, { nullable: true }) imageIndex?: number | null;
  @Field(() => Int) imageCount!: number;
  @Field(() => String, { nullable: true }) model?: string | null;
  @Field(() => String, { nullable: true }) version?: string | null;
  @Field(() => DeviceType, { nullable: true, description: 'On model steps: the device asked for' })
  requestedDevice?: DeviceType | null;
  @Field(() => DeviceType, { nullable: true, description: 'On model steps: the device it ran on' })
  device?: DeviceType | null;
  @Field(() => String, { nullable: true }) fallbackReason?: string | null;
  @Field(() => String, { nullable: true }) message?: string | null;
  @Field(() => ID, { nullable: true }) predictionId?: string | null;
  @Field(() => ID, { nullable: true }) segmentationId?: string | null;
  @Field(() => GradCamType, { nullable: true, description: 'On the gradcam stage: the map with its URLs' })
  gradCam?: GradCamType | null;
}

@ObjectType({ description: 'A page of predictions, newest first' })
export class PredictionConnection extends Connection(PredictionType, 'Prediction') {}

@ObjectType({ description: 'A page of segmentations, newest first' })
export class SegmentationConnection extends Connection(SegmentationType, 'Segmentation') {}
