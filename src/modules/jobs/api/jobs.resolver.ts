import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { unauthenticated } from '../../../infra/errors';
import { InferenceJob, Prediction, Role, Segmentation } from '../../../entities';
import type { MemberRecord } from '../../../entities/prediction';
import {
  EnsembleMember,
  EnsembleMemberInput,
  GradCamType,
  GroundTruthInput,
  InferenceJobType,
  InferenceProgressEvent,
  LesionMetricsConnection,
  LesionMetricsSummary,
  MetricsFilter,
  PredictionType,
  SegmentationType,
} from './jobs.types';
import type { AppContext } from '../../../schema/context';
import type { ProgressEvent } from '../progress';
import { ResultUrls, opacityVariant, type GradCamFiles } from './result-files';
import { ResearchQueries } from '../../research/research.service';

const inference = (ctx: AppContext) => ctx.services.inference.service;
const urls = (ctx: AppContext) => new ResultUrls(ctx.services.config);

const members = (ms: MemberRecord[]): EnsembleMember[] =>
  ms.map((m) => ({
    model: m.model,
    version: m.version,
    weight: m.weight,
    requestedDevice: m.requested,
    device: m.device,
    fallbackReason: m.fallbackReason ?? null,
  }));

function gradCamOf(
  method: string,
  targetClass: string,
  model: string,
  files: GradCamFiles,
  ctx: AppContext,
): GradCamType {
  return { method, targetClass, model, heatmapUrl: urls(ctx).gradCam(files, 'heatmap'), files };
}

export function toJob(j: InferenceJob): InferenceJobType {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    stage: j.stage,
    progress: j.progress,
    error: j.error ?? null,
    attempts: j.attempts,
    imageCount: j.total,
    resultIds: j.resultIds,
    createdAt: j.createdAt,
    startedAt: j.startedAt ?? null,
    finishedAt: j.finishedAt ?? null,
  };
}

export function toPrediction(p: Prediction, ctx: AppContext, imageSha256: string | null): PredictionType {
  const cam =
    p.gradCamMethod && p.gradCamMapSha256 && imageSha256
      ? gradCamOf(
          p.gradCamMethod,
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
    gradCam: cam,
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
    width: s.width,
    height: s.height,
    metrics: {
      areaPercent: s.areaPercent,
      areaPixels: s.areaPixels,
      perimeterPixels: s.perimeterPixels,
      circularity: s.circularity,
      meanIntensity: s.meanIntensity,
      stdIntensity: s.stdIntensity,
      dice: s.dice ?? null,
      jaccard: s.jaccard ?? null,
    },
    severity: s.severity,
    createdAt: s.createdAt,
  };
}

async function imageSha(ctx: AppContext, imageId: string): Promise<string | null> {
  const rows = (await ctx.em.getConnection().execute('select sha256 from images where id = ?', [imageId])) as Array<{
    sha256: string;
  }>;
  return rows[0]?.sha256 ?? null;
}

/** Inference over GraphQL: jobs, their progress, results, and research metrics. */
@Resolver()
export class InferenceResolver {
  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => InferenceJobType, {
    description: 'Queues a classification (with Grad-CAM unless explain is false); returns the job at once',
  })
  async classifyImage(
    @Arg('imageId', () => ID) imageId: string,
    @Arg('models', () => [EnsembleMemberInput], { nullable: true }) models: EnsembleMemberInput[] | null,
    @Arg('explain', () => Boolean, { defaultValue: true }) explain: boolean,
    @Arg('targetClass', () => String, { nullable: true, description: 'Label to explain (default: the predicted one)' })
    targetClass: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<InferenceJobType> {
    return toJob(await inference(ctx).classifyImage(ctx.em, ctx.user!, { imageId, models, explain, targetClass }));
  }

  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => InferenceJobType, {
    description:
      'Queues one classification job over up to 100 images (a Prediction each, reported as it lands); returns the job at once',
  })
  async classifyImages(
    @Arg('imageIds', () => [ID]) imageIds: string[],
    @Arg('models', () => [EnsembleMemberInput], { nullable: true }) models: EnsembleMemberInput[] | null,
    @Arg('explain', () => Boolean, { defaultValue: true }) explain: boolean,
    @Arg('targetClass', () => String, { nullable: true, description: 'Label to explain (default: the predicted one)' })
    targetClass: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<InferenceJobType> {
    return toJob(await inference(ctx).classifyImages(ctx.em, ctx.user!, { imageIds, models, explain, targetClass }));
  }

  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => InferenceJobType, {
    description: 'Queues a weighted segmentation ensemble over the images; returns the job at once',
  })
  async segmentImages(
    @Arg('imageIds', () => [ID]) imageIds: string[],
    @Arg('members', () => [EnsembleMemberInput]) membersIn: EnsembleMemberInput[],
    @Arg('threshold', () => Float, { defaultValue: 0.5 }) threshold: number,
    @Arg('groundTruth', () => [GroundTruthInput], {
      nullable: true,
      description: 'Masks to score against: the segmentation then carries Dice and Jaccard',
    })
    groundTruth: GroundTruthInput[] | null,
    @Ctx() ctx: AppContext,
  ): Promise<InferenceJobType> {
    return toJob(
      await inference(ctx).segmentImages(ctx.em, ctx.user!, { imageIds, members: membersIn, threshold, groundTruth }),
    );
  }

  @Authorized()
  @Query(() => InferenceJobType, { nullable: true, description: "A job of the caller's (admins: any)" })
  async job(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<InferenceJobType | null> {
    const j = await inference(ctx).findJob(ctx.em, ctx.user!, id);
    return j ? toJob(j) : null;
  }

  @Authorized()
  @Query(() => PredictionType, { nullable: true })
  async prediction(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<PredictionType | null> {
    const p = await inference(ctx).findPrediction(ctx.em, ctx.user!, id);
    return p ? toPrediction(p, ctx, await imageSha(ctx, p.imageId)) : null;
  }

  @Authorized()
  @Query(() => SegmentationType, { nullable: true })
  async segmentation(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<SegmentationType | null> {
    const s = await inference(ctx).findSegmentation(ctx.em, ctx.user!, id);
    return s ? toSegmentation(s) : null;
  }

  @Authorized()
  @Subscription(() => InferenceProgressEvent, {
    description:
      'Every stage of a job in order (events before the subscription are replayed), ending with done or failed',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, AppContext>) => {
      if (!context.user) throw unauthenticated();
      return inference(context).progress(context.em, context.user, args.jobId);
    },
  })
  async inferenceProgress(
    @Arg('jobId', () => ID) _jobId: string,
    @Root() e: ProgressEvent,
    @Ctx() ctx: AppContext,
  ): Promise<InferenceProgressEvent> {
    // Access is checked at subscribe time; a Grad-CAM event mints URLs, so it is checked again
    // (once per image): a share taken back while the job runs stops them.
    const gradCam =
      e.gradCam && (await inference(ctx).findJob(ctx.em.fork(), ctx.user!, e.jobId))
        ? gradCamOf(e.gradCam.method, '', '', e.gradCam, ctx)
        : null;
    return {
      jobId: e.jobId,
      seq: e.seq,
      at: new Date(e.at),
      stage: e.stage,
      status: e.status as InferenceProgressEvent['status'],
      progress: e.progress,
      attempt: e.attempt,
      imageId: e.imageId ?? null,
      imageIndex: e.imageIndex ?? null,
      imageCount: e.imageCount,
      model: e.model ?? null,
      version: e.version ?? null,
      requestedDevice: e.requestedDevice ?? null,
      device: e.device ?? null,
      fallbackReason: e.fallbackReason ?? null,
      message: e.message ?? null,
      predictionId: e.predictionId ?? null,
      segmentationId: e.segmentationId ?? null,
      gradCam,
    };
  }

  @Authorized(Role.RESEARCHER, Role.ADMIN)
  @Query(() => LesionMetricsConnection, {
    description: 'De-identified segmentation metrics with the latest prediction of each image, newest first',
  })
  async lesionMetrics(
    @Arg('filter', () => MetricsFilter, { nullable: true }) filter: MetricsFilter | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<LesionMetricsConnection> {
    return new ResearchQueries(ctx.services.config.URL_SIGNING_SECRET).lesionMetrics(ctx.em, filter, first, after);
  }

  @Authorized(Role.RESEARCHER, Role.ADMIN)
  @Query(() => LesionMetricsSummary, {
    description: 'Counts per severity and label; area and circularity per model version',
  })
  async lesionMetricsSummary(
    @Arg('filter', () => MetricsFilter, { nullable: true }) filter: MetricsFilter | null,
    @Ctx() ctx: AppContext,
  ): Promise<LesionMetricsSummary> {
    return new ResearchQueries(ctx.services.config.URL_SIGNING_SECRET).summary(ctx.em, filter);
  }
}

@Resolver(() => GradCamType)
export class GradCamFieldsResolver {
  @FieldResolver(() => String, {
    description: 'Signed URL of the heatmap over the image at opacity 0..1 (rendered on first request, then cached)',
  })
  overlayUrl(
    @Root() g: GradCamType,
    @Arg('opacity', () => Float, { defaultValue: 0.5 }) opacity: number,
    @Ctx() ctx: AppContext,
  ): string {
    return urls(ctx).gradCam(g.files, opacityVariant(opacity));
  }
}

@Resolver(() => SegmentationType)
export class SegmentationFieldsResolver {
  @FieldResolver(() => String, {
    description: 'Signed URL of the binary mask PNG (255 = lesion) at the image resolution',
  })
  maskUrl(@Root() s: SegmentationType, @Ctx() ctx: AppContext): string {
    return urls(ctx).segmentation(s.id, 'mask');
  }

  @FieldResolver(() => String, { description: 'Signed URL of the ensemble probability map PNG (p * 255)' })
  probabilityUrl(@Root() s: SegmentationType, @Ctx() ctx: AppContext): string {
    return urls(ctx).segmentation(s.id, 'probability');
  }

  @FieldResolver(() => String, { description: 'Signed URL of the mask over the image (red at opacity, green contour)' })
  overlayUrl(
    @Root() s: SegmentationType,
    @Arg('opacity', () => Float, { defaultValue: 0.5 }) opacity: number,
    @Ctx() ctx: AppContext,
  ): string {
    return urls(ctx).segmentation(s.id, opacityVariant(opacity));
  }
}

@Resolver(() => InferenceProgressEvent)
export class ProgressFieldsResolver {
  @FieldResolver(() => PredictionType, { nullable: true, description: 'The prediction, once persisted' })
  async prediction(@Root() e: InferenceProgressEvent, @Ctx() ctx: AppContext): Promise<PredictionType | null> {
    if (!e.predictionId || e.stage !== 'persisted') return null;
    const p = await inference(ctx).findPrediction(ctx.em.fork(), ctx.user!, e.predictionId);
    return p ? toPrediction(p, ctx, await imageSha(ctx, p.imageId)) : null;
  }

  @FieldResolver(() => SegmentationType, { nullable: true, description: 'The segmentation, once persisted' })
  async segmentation(@Root() e: InferenceProgressEvent, @Ctx() ctx: AppContext): Promise<SegmentationType | null> {
    if (!e.segmentationId) return null;
    const s = await inference(ctx).findSegmentation(ctx.em.fork(), ctx.user!, e.segmentationId);
    return s ? toSegmentation(s) : null;
  }
}

export const inferenceResolvers = [
  InferenceResolver,
  GradCamFieldsResolver,
  SegmentationFieldsResolver,
  ProgressFieldsResolver,
];
