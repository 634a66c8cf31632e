import { registerEnumType } from 'type-graphql';
import type { CamMethod } from '../../../inference/gradcam';
import { STAGES, type Stage } from '../progress';

/** What each stage means; a Record over Stage, so a stage added to STAGES must be described here. */
const STAGE_DESCRIPTIONS: Record<Stage, string> & Record<string, string> = {
  queued: 'Waiting for a runner (also between a failed attempt and its retry)',
  preprocessing: 'An image is being decoded, oriented and resized for the models',
  model: 'One member of the ensemble ran on the image (model, version and devices say which and where)',
  ensembling: "The members' outputs are being combined by weight",
  metrics: 'The mask is being measured (segmentation)',
  gradcam: 'The explanation map is ready (classification with explain; gradCam has its URLs)',
  persisted: 'The image’s result was stored (predictionId or segmentationId)',
  rendering: 'A report job wrote one image into its file (imageId, imageIndex of imageCount)',
  done: 'Every image has its result: the job SUCCEEDED',
  failed: 'The job FAILED; message says why',
  cancelled: 'The job was CANCELLED (cancelJob)',
};

/**
 * The stages of a job as a GraphQL enum: QUEUED, PREPROCESSING, ... whose values are the stage
 * names the runner, the progress log and the `inference_jobs.stage` column use ('queued', ...).
 */
export const JobStage = Object.fromEntries(STAGES.map((s) => [s.toUpperCase(), s])) as {
  readonly [S in Stage as Uppercase<S>]: S;
};
export type JobStage = Stage;

registerEnumType(JobStage, {
  name: 'JobStage',
  description:
    'The steps of a job, in the order it passes them (MODEL, GRADCAM and PERSISTED repeat per member or image)',
  valuesConfig: Object.fromEntries(STAGES.map((s) => [s.toUpperCase(), { description: STAGE_DESCRIPTIONS[s] }])),
});

/** The explanation methods (GraphQL: GRAD_CAM, SCORE_CAM; the values are what predictions store). */
export const GradCamMethod = {
  GRAD_CAM: 'grad-cam',
  SCORE_CAM: 'score-cam',
} as const satisfies Record<string, CamMethod>;
export type GradCamMethod = CamMethod;

registerEnumType(GradCamMethod, {
  name: 'GradCamMethod',
  description: 'How an explanation map was computed (docs/inference.md, "Grad-CAM")',
  valuesConfig: {
    GRAD_CAM: {
      description: 'Exact Grad-CAM: gradients of the target logit through the classifier head in the model file',
    },
    SCORE_CAM: {
      description:
        'Score-CAM, when the head cannot be differentiated: the class probability of the image masked by each channel',
    },
  },
});
