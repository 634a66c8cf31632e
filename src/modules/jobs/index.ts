/** Classification and segmentation jobs: the api side (queue, GraphQL), the runner side, and their results. */
import {
  JobsResolver,
  GradCamFieldsResolver,
  SegmentationFieldsResolver,
  ProgressFieldsResolver,
} from './api/jobs.resolver';
import { PatientResultsResolver } from './api/patient-results.resolver';
import { UploadImagesResolver } from './api/upload.resolver';
import { ImageResultsResolver } from './api/image-results.resolver';
import {
  JobResultsResolver,
  PredictionImageResolver,
  SegmentationImageResolver,
} from './api/result-navigation.resolver';
import { JobControlResolver } from './api/job-control.resolver';
import { PredictionMembersResolver } from './api/prediction-members';
import type { JobsModule } from './jobs.module';

export { createJobsModule, jobMode, severityOf } from './jobs.module';
export type { JobsModule, JobsDeps } from './jobs.module';
export { gradCamOverlayKey, opacityVariant, renderGradCamOverlay, resultFileRoutes } from './api/result-files';
// Result types and views other modules show (a patient's predictions and segmentations; research metrics).
export { LesionMetricsValues, PredictionType, SegmentationType } from './api/jobs.types';
export { toJob, toPrediction, toSegmentation } from './api/views';
export { PredictionFlag, storedAbstention } from './api/prediction-abstention.types';
// The admins' job list and retryJob (the system module).
export { JobType } from './api/jobs.types';
export { JobConnection, JobsArgs } from './api/job-control.types';
export type { JobListFilter } from './job.repository';
export { jobNodes } from './api/result-navigation.resolver';
// What another module needs to run jobs of its own kind (reports) and to wait for them.
export type { KindHandler, KindRun } from './runner/runner';
export { settle, WAIT_DESCRIPTION } from './api/jobs.resolver';
export { asBuffer, movable } from './runner/image-threads';
export { camMapBytes } from './cam-map-source';

/** The module's resolvers: jobs (queue, list, cancel) and their results, and Patient.predictions / segmentations / latestPrediction. */
export const jobsResolvers = [
  JobsResolver,
  GradCamFieldsResolver,
  SegmentationFieldsResolver,
  PredictionMembersResolver,
  ProgressFieldsResolver,
  PatientResultsResolver,
  UploadImagesResolver,
  ImageResultsResolver,
  JobResultsResolver,
  PredictionImageResolver,
  SegmentationImageResolver,
  JobControlResolver,
];

declare module '../../schema/context' {
  interface Services {
    /**
     * The jobs layer: queue, progress, results and, where this process runs jobs, the runner. (The
     * key predates the module's name; tests and benches read `services.inference`.)
     */
    inference: JobsModule;
  }
}
