import type { InferenceJob, Prediction, Segmentation } from '../../../entities';
import type { MemberRecord } from '../../../entities/prediction';
import type { AppContext } from '../../../schema/context';
import type { ProgressEvent } from '../progress';
import { toDeviceType, toDeviceTypeOrNull } from '../../../models-registry';
import type { GradCamMethod, JobStage } from './job-enums';
import { ResultUrls, type GradCamFiles } from './result-files';
import { toAbstention } from './prediction-abstention.types';
import type {
  EnsembleMember,
  GradCamType,
  JobProgressEventType,
  JobType,
  PredictionType,
  SegmentationType,
} from './jobs.types';

/** Rows and events as the GraphQL types show them (the signed URLs minted from the request's config). */
export const resultUrls = (ctx: AppContext) => new ResultUrls(ctx.services.config);

const members = (ms: MemberRecord[]): EnsembleMember[] =>
  ms.map((m) => ({
    model: m.model,
    version: m.version,
    weight: m.weight,
    requestedDevice: toDeviceType(m.requested),
    device: toDeviceType(m.device),
    fallbackReason: m.fallbackReason ?? null,
  }));

export function toGradCam(
  method: GradCamMethod,
  targetClass: string,
  model: string,
  files: GradCamFiles,
  ctx: AppContext,
): GradCamType {
  return { method, targetClass, model, heatmapUrl: resultUrls(ctx).gradCam(files, 'heatmap'), files };
}

export function toJob(j: InferenceJob): JobType {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    stage: j.stage as JobStage,
    progress: j.progress,
    error: j.error ?? null,
    attempts: j.attempts,
    imageCount: j.total,
    resultIds: j.resultIds,
    createdAt: j.createdAt,
    startedAt: j.startedAt ?? null,
    finishedAt: j.finishedAt ?? null,
    ownerId: (j.owner as unknown as { id: string }).id,
    requestId: (j.request as { requestId?: string } | null)?.requestId ?? null,
  };
}

/** `imageSha256`: the image's file, which Grad-CAM URLs are signed against (no Grad-CAM without it). */
export function toPrediction(p: Prediction, ctx: AppContext, imageSha256: string | null): PredictionType {
  const cam =
    p.gradCamMethod && p.gradCamMapSha256 && imageSha256
      ? toGradCam(
          p.gradCamMethod as GradCamMethod,
          p.gradCamTarget ?? '',
          p.gradCamModel ?? '',
          { imageSha256, mapSha256: p.gradCamMapSha256 },
          ctx,
        )
      : null;
  return {
    id: p.id,
    imageId: p.imageId,
    patientId: p.patientId ?? null,
    jobId: p.job?.id ?? null,
    label: p.label,
    confidence: p.confidence,
    malignant: p.malignant,
    malignantProbability: p.malignantProbability,
    probabilities: p.probabilities,
    members: members(p.members),
    ensemble: p.ensemble ?? null,
    memberRecords: p.members,
    disagreementColumns: {
      memberMalignantSpread: p.memberMalignantSpread,
      memberMalignantStdDev: p.memberMalignantStdDev,
      membersDisagree: p.membersDisagree,
    },
    gradCam: cam,
    ...toAbstention(p),
    createdAt: p.createdAt,
  };
}

export function toSegmentation(s: Segmentation): SegmentationType {
  return {
    id: s.id,
    imageId: s.imageId,
    patientId: s.patientId ?? null,
    jobId: s.job?.id ?? null,
    threshold: s.threshold,
    members: members(s.members),
    memberRecords: s.members,
    memberAgreement: s.memberAgreement ?? null,
    width: s.width,
    height: s.height,
    metrics: {
      areaPercent: s.areaPercent,
      areaPixels: s.areaPixels,
      perimeterPixels: s.perimeterPixels,
      circularity: s.circularity,
      allPiecesCircularity: s.allPiecesCircularity,
      componentCount: s.componentCount ?? null,
      meanIntensity: s.meanIntensity,
      stdIntensity: s.stdIntensity,
      dice: s.dice ?? null,
      jaccard: s.jaccard ?? null,
    },
    touchesBorder: s.touchesBorder ?? null,
    fieldOfViewPercent: s.fieldOfViewPercent ?? null,
    severity: s.severity,
    createdAt: s.createdAt,
  };
}

/** A progress event; `gradCam` is passed in because minting its URLs needs an access check first. */
export function toProgressEvent(e: ProgressEvent, gradCam: GradCamType | null): JobProgressEventType {
  return {
    jobId: e.jobId,
    seq: e.seq,
    at: new Date(e.at),
    stage: e.stage,
    status: e.status,
    progress: e.progress,
    attempt: e.attempt,
    imageId: e.imageId ?? null,
    imageIndex: e.imageIndex ?? null,
    imageCount: e.imageCount,
    model: e.model ?? null,
    version: e.version ?? null,
    requestedDevice: toDeviceTypeOrNull(e.requestedDevice),
    device: toDeviceTypeOrNull(e.device),
    fallbackReason: e.fallbackReason ?? null,
    message: e.message ?? null,
    predictionId: e.predictionId ?? null,
    segmentationId: e.segmentationId ?? null,
    gradCam,
  };
}
