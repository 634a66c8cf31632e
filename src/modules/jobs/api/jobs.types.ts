import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JobKind, JobStatus } from '../../../entities/inference-job';
import { Severity, type SegmentationMemberRecord } from '../../../entities/segmentation';
import type { Prediction, PredictionMemberRecord } from '../../../entities/prediction';
import { Connection } from '../../../schema/connection';
import { DeviceInput, DeviceType } from '../../../models-registry';
import { GradCamMethod, JobStage } from './job-enums';
import { ImageQualityType, PredictionFlag } from './prediction-abstention.types';
import { Node } from '../../../schema/node';

registerEnumType(JobKind, {
  name: 'JobKind',
  description: 'What a job computes',
  valuesConfig: {
    CLASSIFY: { description: 'Classification (classifyImage, classifyImages): one Prediction per image' },
    SEGMENT: { description: 'Segmentation (segmentImages): one Segmentation per image' },
    REPORT: {
      description: 'A large generateReport: the images written into the report file (Report.status follows it)',
    },
  },
});
registerEnumType(JobStatus, {
  name: 'JobStatus',
  description: 'Where a job is: QUEUED and RUNNING may still change; SUCCEEDED, FAILED and CANCELLED are final',
  valuesConfig: {
    QUEUED: { description: 'Waiting for a runner (also between a failed attempt and its retry)' },
    RUNNING: { description: 'A runner is working through its images' },
    SUCCEEDED: { description: 'Every image has its result' },
    FAILED: { description: 'Ended by an error; `error` says why' },
    CANCELLED: {
      description: 'Stopped by cancelJob: its remaining images never run; results stored before the cancel stay',
    },
  },
});
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
  @Field(() => String, { description: 'Model.name; its task must match the call (classification or segmentation)' })
  model!: string;
  @Field(() => String, {
    nullable: true,
    description:
      'Pins this version (ACTIVE or READY, else MODEL_UNAVAILABLE); default: whatever is active when the job starts',
  })
  version?: string | null;
  @Field(() => Float, {
    nullable: true,
    defaultValue: 1,
    description: 'Relative weight, >= 0 and finite, not all zero; normalised to sum to 1 over the members',
  })
  weight?: number | null;
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
      'An ad-hoc ensemble, 1 to 8 members sharing one label list; default: DEFAULT_CLASSIFIER, else the default-classifier ensemble, else the first active classification model. Not with ensemble (BAD_USER_INPUT, reason MODELS_AND_ENSEMBLE)',
  })
  models?: EnsembleMemberInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A named classification ensemble (classificationEnsembles) instead of models; MODEL_UNAVAILABLE when none has the name or a member cannot run',
  })
  ensemble?: string | null;

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
  @Field(() => ID, { description: 'Globally unique id; what job(id), node(id) and inferenceProgress(jobId) take' })
  id!: string;
  @Field(() => JobKind, { description: 'Classification or segmentation' }) kind!: JobKind;
  @Field(() => JobStatus, { description: 'Where the job is; final once SUCCEEDED, FAILED or CANCELLED' })
  status!: JobStatus;
  @Field(() => JobStage, { description: 'The last stage reached' })
  stage!: JobStage;
  @Field(() => Float, { description: '0..1 over every image of the job' }) progress!: number;
  @Field(() => String, {
    nullable: true,
    description: 'Why the last attempt failed (safe to show); null when none failed',
  })
  error?: string | null;
  @Field(() => Int, { description: 'Attempts started: 0 while first queued; a retry or a takeover adds one' })
  attempts!: number;
  @Field(() => Int, { description: 'Images in the job (duplicates in the call counted once)' }) imageCount!: number;
  @Field(() => [ID], { description: 'Prediction or Segmentation ids, in image order, as they land' })
  resultIds!: string[];
  @Field(() => Date, { description: 'When it was queued' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When a runner first took it; null while queued' })
  startedAt?: Date | null;
  @Field(() => Date, { nullable: true, description: 'When it ended; null until SUCCEEDED, FAILED or CANCELLED' })
  finishedAt?: Date | null;
  @Field(() => ID, { description: 'The account that queued it (a User id; node(id) finds it, for admins)' })
  ownerId!: string;
  @Field(() => String, {
    nullable: true,
    description:
      'The request that queued it (its x-request-id): the log lines of whichever process runs it carry it (serverLogs); null for jobs from before',
  })
  requestId?: string | null;
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
  @Field(() => String, { description: 'Model.name' }) model!: string;
  @Field(() => String, { description: 'The version that ran (ModelVersion.version)' }) version!: string;
  @Field(() => Float, { description: 'Normalised weight, 0..1; the members’ weights sum to 1' }) weight!: number;
  @Field(() => DeviceType, { description: 'Device asked for (the member input, else the version’s placement)' })
  requestedDevice!: DeviceType;
  @Field(() => DeviceType, { description: 'Device the model actually ran on' }) device!: DeviceType;
  @Field(() => String, {
    nullable: true,
    description: 'Why requestedDevice could not be used; null when it was',
  })
  fallbackReason?: string | null;
}

@ObjectType('GradCam', { description: 'Where the model looked: Grad-CAM (exact through the head) or Score-CAM' })
export class GradCamType {
  @Field(() => GradCamMethod, { description: 'Grad-CAM, or Score-CAM when the head cannot be differentiated' })
  method!: GradCamMethod;
  @Field(() => String, { description: 'The class explained' }) targetClass!: string;
  @Field(() => String, { description: 'model@version explained' }) model!: string;
  @Field(() => String, {
    description:
      'Signed URL (stable within a SIGNED_URL_TTL_SECONDS window, as Image.url) of the map as a Turbo-coloured PNG at up to 1024 px',
  })
  heatmapUrl!: string;
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
  @Field(() => String, {
    description:
      'The most probable label on the side of the call: among the malignant labels when malignant, among the others when not (the first on a tie). Never contradicts malignant, also where a threshold below 0.5 calls a lesion malignant that is more likely benign',
  })
  label!: string;
  @Field(() => Float, { description: 'Probability of label, 0..1' }) confidence!: number;
  @Field(() => Boolean, {
    description:
      "malignantProbability >= the decision threshold: the model's manifest decisionThreshold (default 0.5), for an ensemble its members' averaged by weight",
  })
  malignant!: boolean;
  @Field(() => Float, { description: 'Summed probability of the malignant labels' }) malignantProbability!: number;
  @Field(() => [LabelProbability], { description: 'Every label with its probability, in the model’s label order' })
  probabilities!: LabelProbability[];
  @Field(() => [EnsembleMember], { description: 'The models that voted, with the versions and devices that ran' })
  members!: EnsembleMember[];
  @Field(() => String, {
    nullable: true,
    description:
      'The named classification ensemble that ran (ClassificationEnsemble.name; also when it was the default); null for ad-hoc models, a single default model and predictions stored before',
  })
  ensemble?: string | null;
  /** The stored members with their own outputs, and the disagreement columns, for memberResults / memberDisagreement (not fields). */
  memberRecords!: PredictionMemberRecord[];
  disagreementColumns!: Pick<Prediction, 'memberMalignantSpread' | 'memberMalignantStdDev' | 'membersDisagree'>;
  @Field(() => GradCamType, {
    nullable: true,
    description: 'The explanation map; null when explain was false or no member exposes a feature map',
  })
  gradCam?: GradCamType | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'True when the result is indeterminate (any flag): label and probabilities are kept but should not be read as a call; null on predictions stored before the checks (flags: NOT_ASSESSED)',
  })
  abstained?: boolean | null;
  @Field(() => [PredictionFlag], {
    description: 'Why it abstains, LOW_MARGIN first; empty when the result stands; [NOT_ASSESSED] on older predictions',
  })
  flags!: PredictionFlag[];
  @Field(() => [String], { description: 'flags in words, in their order, as the PDF report and web console say them' })
  reasons!: string[];
  @Field(() => ImageQualityType, {
    nullable: true,
    description: 'The image-quality checks of the pixels classified; null on predictions stored before them',
  })
  quality?: ImageQualityType | null;
  @Field(() => Float, {
    nullable: true,
    description:
      '|malignantProbability - decision threshold| (the threshold malignant was decided at); null on older predictions',
  })
  decisionMargin?: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'ABSTAIN_MARGIN when the prediction was stored (LOW_MARGIN below it); null on older predictions',
  })
  abstainMargin?: number | null;
  @Field(() => Date, { description: 'When the result was stored' }) createdAt!: Date;
}

@ObjectType({
  description:
    'Measurements of a segmentation mask at the image’s resolution (docs/inference.md, "Mask measurements"); an empty mask gives 0s',
})
export class LesionMetricsValues {
  @Field(() => Float, { description: 'Lesion area (every piece of the mask), % of the whole image (0..100)' })
  areaPercent!: number;
  @Field(() => Int, { description: 'Lesion area in pixels, every piece of the mask' }) areaPixels!: number;
  @Field(() => Float, {
    description: "scikit-image's perimeter estimator, 4-neighbourhood, of every piece of the mask together",
  })
  perimeterPixels!: number;
  @Field(() => Float, {
    description:
      'The lesion’s circularity: 4*pi*A/P^2 of the mask’s largest piece alone, clamped to [0, 1]; what severity grades (segmentations stored before componentCount existed hold allPiecesCircularity here)',
  })
  circularity!: number;
  @Field(() => Float, {
    description: '4*pi*A/P^2 of every piece of the mask together (areaPixels, perimeterPixels), clamped to [0, 1]',
  })
  allPiecesCircularity!: number;
  @Field(() => Int, {
    nullable: true,
    description: '8-connected pieces of the mask (0 when empty); null on segmentations stored before it was counted',
  })
  componentCount?: number | null;
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
  @Field(() => ID, { description: 'Globally unique id; what segmentation(id) and node(id) take' }) id!: string;
  @Field(() => ID, { description: 'The image segmented (Image.id)' }) imageId!: string;
  @Field(() => ID, { nullable: true, description: 'The image’s patient (Patient.id); null if not recorded' })
  patientId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The job that made it; null once that job record is gone' })
  jobId?: string | null;
  @Field(() => Float, { description: 'Ensemble probability at or above which a pixel is lesion, 0..1' })
  threshold!: number;
  @Field(() => [EnsembleMember], { description: 'The models averaged, with the versions and devices that ran' })
  members!: EnsembleMember[];
  /** The stored members with their own outputs, for memberResults (not a field itself). */
  memberRecords!: SegmentationMemberRecord[];
  @Field(() => Float, {
    nullable: true,
    description:
      'Mean Dice between the members’ own masks, pair by pair, 0..1 (1 = they drew the same mask): an uncertainty signal. Null with one member and on segmentations stored before it was measured',
  })
  memberAgreement?: number | null;
  @Field(() => Int, { description: 'Mask width in pixels: the image’s, EXIF orientation applied' }) width!: number;
  @Field(() => Int, { description: 'Mask height in pixels: the image’s, EXIF orientation applied' }) height!: number;
  @Field(() => LesionMetricsValues, { description: 'Area, perimeter, circularity, intensity, overlap' })
  metrics!: LesionMetricsValues;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'The lesion mask reaches the image’s edge or the dermoscope’s field edge: the lesion may go on beyond the photograph, so its area is a lower bound. Null on segmentations stored before it was checked',
  })
  touchesBorder?: boolean | null;
  @Field(() => Float, {
    nullable: true,
    description:
      '% of the image inside the dermoscope’s visible field (its dark surround, left out of the mask, is the rest); null when no dark surround was found',
  })
  fieldOfViewPercent?: number | null;
  @Field(() => Severity, { description: 'Grade from area and circularity, as configured when it ran' })
  severity!: Severity;
  @Field(() => Date, { description: 'When the result was stored' }) createdAt!: Date;
}

@ObjectType('InferenceProgressEvent', {
  description:
    'One step of a job (inferenceProgress): per image preprocessing, model (per member), ensembling, metrics, gradcam, persisted; then the final event',
})
export class JobProgressEventType {
  @Field(() => ID, { description: 'The job (InferenceJob.id)' }) jobId!: string;
  @Field(() => Int, {
    description: '1, 2, ... in order over the whole job (every attempt): order and de-duplicate by it',
  })
  seq!: number;
  @Field(() => Date, { description: 'When the step was reached' }) at!: Date;
  @Field(() => JobStage, { description: 'The step reached' }) stage!: JobStage;
  @Field(() => JobStatus, { description: 'The job’s status at this step' }) status!: JobStatus;
  @Field(() => Float, { description: '0..1 over every image of the job; 1 at done' }) progress!: number;
  @Field(() => Int, { description: 'The attempt this step belongs to: 0 on the first queued event, then 1, 2, ...' })
  attempt!: number;
  @Field(() => ID, { nullable: true, description: 'The image being worked on; null on job-wide steps' })
  imageId?: string | null;
  @Field(() => Int, { nullable: true, description: '0-based index of that image in the job; null on job-wide steps' })
  imageIndex?: number | null;
  @Field(() => Int, { description: 'Images in the job' }) imageCount!: number;
  @Field(() => String, { nullable: true, description: 'On model steps: the member that ran (Model.name)' })
  model?: string | null;
  @Field(() => String, { nullable: true, description: 'On model steps: its version' }) version?: string | null;
  @Field(() => DeviceType, { nullable: true, description: 'On model steps: the device asked for' })
  requestedDevice?: DeviceType | null;
  @Field(() => DeviceType, { nullable: true, description: 'On model steps: the device it ran on' })
  device?: DeviceType | null;
  @Field(() => String, {
    nullable: true,
    description: 'On model steps: why requestedDevice could not be used; null when it was',
  })
  fallbackReason?: string | null;
  @Field(() => String, { nullable: true, description: 'Details of the step; on failed: the reason' }) message?:
    string | null;
  @Field(() => ID, { nullable: true, description: 'On a classification’s persisted step: the new Prediction.id' })
  predictionId?: string | null;
  @Field(() => ID, { nullable: true, description: 'On a segmentation’s persisted step: the new Segmentation.id' })
  segmentationId?: string | null;
  @Field(() => GradCamType, { nullable: true, description: 'On the gradcam stage: the map with its URLs' })
  gradCam?: GradCamType | null;
}

@ObjectType({ description: 'A page of predictions, newest first' })
export class PredictionConnection extends Connection(PredictionType, 'Prediction') {}

@ObjectType({ description: 'A page of segmentations, newest first' })
export class SegmentationConnection extends Connection(SegmentationType, 'Segmentation') {}
