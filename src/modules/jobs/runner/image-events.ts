import type { InferenceJob } from '../../../entities/inference-job';
import type { NewProgressEvent, ProgressPublisher, Stage } from '../progress';
import type { MemberRun } from './members';
import { STAGE_SHARE, statusAt, type ProgressTracker } from './progress-tracker';
import type { RowCam } from './result-rows';

/** A progress event of one image of a job, before the job's status, attempt and count are added. */
export type ImageEvent = Partial<NewProgressEvent> & { stage: Stage };

/** Which image of the job an event is about. */
export interface ImageOfJob {
  imageId: string;
  imageIndex: number;
}

/** The event of a pipeline stage reached (classifyImage's StageReport): the member it ran, if any. */
export function stageEvent(
  base: ImageOfJob,
  stage: Stage,
  progress: number,
  detail?: { member?: MemberRun; message?: string },
): ImageEvent {
  const m = detail?.member;
  return {
    ...base,
    stage,
    progress,
    ...(m
      ? {
          model: m.spec.model,
          version: m.spec.version,
          requestedDevice: m.spec.device ?? m.device.requested,
          device: m.device.actual,
          fallbackReason: m.device.fallbackReason ?? null,
        }
      : {}),
    message: detail?.message ?? null,
  };
}

/**
 * The events of a classification once its row is stored: its Grad-CAM (announced only then, so the
 * heatmap URL it carries reads the map from the row) and `persisted`, which finishes the image. Each is
 * made when it is asked for, after the one before was published: the job's progress is read from
 * `tracker` at that moment, so that the images of a job in flight together announce it in order.
 */
export function* storedPredictionEvents(
  base: ImageOfJob,
  tracker: ProgressTracker,
  predictionId: string,
  cam: RowCam | null,
  imageSha256: string,
): Generator<ImageEvent> {
  if (cam)
    yield {
      ...base,
      stage: 'gradcam',
      progress: tracker.progress(STAGE_SHARE.gradcam),
      predictionId,
      gradCam: { method: cam.method, mapSha256: cam.sha256, imageSha256 },
    };
  yield { ...base, stage: 'persisted', progress: tracker.finishImage(), predictionId };
}

/** Publishes `e` on the job's channel, with the status its stage announces and the job's progress, attempt and image count. */
export function publishJobEvent(
  progress: ProgressPublisher,
  job: Pick<InferenceJob, 'id' | 'progress' | 'attempts' | 'total'>,
  e: ImageEvent,
): Promise<unknown> {
  return progress.publish({
    jobId: job.id,
    status: statusAt(e.stage),
    progress: job.progress,
    attempt: job.attempts,
    imageCount: job.total,
    ...e,
  });
}
