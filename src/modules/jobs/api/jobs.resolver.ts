import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { unauthenticated } from '../../../infra/errors';
import { Role } from '../../../entities';
import type { AppContext, AuthUser } from '../../../schema/context';
import { CurrentUser } from '../../../schema/current-user';
import { imageShaById } from '../../images';
import type { ProgressEvent } from '../progress';
import type { InferenceJob } from '../../../entities';
import { storedSeverityReason } from '../../../inference/severity';
import { severityOf } from '../jobs.module';
import { waitForJobs } from './job-wait';
import { opacityVariant } from './result-files';
import { memberMaskVariant, memberResults, SegmentationMemberResult } from './segmentation-members';
import {
  ClassifyOptionsArgs,
  EnsembleMemberInput,
  GradCamType,
  GroundTruthInput,
  JobProgressEventType,
  JobType,
  PredictionType,
  SegmentationType,
} from './jobs.types';
import { resultUrls, toGradCam, toJob, toPrediction, toProgressEvent, toSegmentation } from './views';

const jobs = (ctx: AppContext) => ctx.services.inference.service;

/** The `wait` argument of the mutations that queue jobs. */
export const WAIT_DESCRIPTION =
  'Answer once the job has ended (SUCCEEDED, FAILED, CANCELLED), or after JOB_WAIT_TIMEOUT_MS with the job as it stands; never an error for slowness';

/**
 * With `wait`: the jobs once they have ended, or at JOB_WAIT_TIMEOUT_MS (or when the client leaves)
 * as they stand, each read again as the caller may see it (`readBack` false: a caller that answers
 * something else skips that read when an event says the job ended; see WaitOptions). Without: the
 * jobs as queued.
 */
export function settle(
  ctx: AppContext,
  user: AuthUser,
  queued: InferenceJob[],
  wait: boolean,
  readBack = true,
  deadline = Date.now() + ctx.services.config.JOB_WAIT_TIMEOUT_MS,
): Promise<InferenceJob[]> {
  if (!wait) return Promise.resolve(queued);
  const deps = {
    pubSub: ctx.services.pubSub,
    reread: (id: string) => jobs(ctx).findJob(ctx.em.fork(), user, id),
    history: (id: string) => ctx.services.inference.progress.history(id),
  };
  return waitForJobs(deps, queued, {
    deadline,
    signal: ctx.signal,
    readBack,
  });
}

const settleOne = async (ctx: AppContext, user: AuthUser, job: InferenceJob, wait: boolean): Promise<JobType> =>
  toJob((await settle(ctx, user, [job], wait))[0]);

/** Classification and segmentation jobs over GraphQL: queue them, follow them, read their results. */
@Resolver()
export class JobsResolver {
  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => JobType, {
    description:
      'Queues a classification (with Grad-CAM unless explain is false); returns the job at once, or with wait once it ended',
  })
  async classifyImage(
    @Arg('imageId', () => ID, { description: 'An image you can see (Image.id)' }) imageId: string,
    @Args(() => ClassifyOptionsArgs) options: ClassifyOptionsArgs,
    @Arg('wait', () => Boolean, { defaultValue: false, description: WAIT_DESCRIPTION }) wait: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<JobType> {
    // With wait, where this process runs the jobs, the image is classified in the request (one wait for both).
    const deadline = Date.now() + ctx.services.config.JOB_WAIT_TIMEOUT_MS;
    const classifier = wait ? ctx.services.inference.inRequest : undefined;
    const job = await jobs(ctx).classifyImage(
      ctx.em,
      user,
      { imageId, ...options },
      classifier ? { classifier, deadline } : undefined,
    );
    return toJob((await settle(ctx, user, [job], wait, true, deadline))[0]);
  }

  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => JobType, {
    description:
      'Queues one classification job over up to 100 images (a Prediction each, reported as it lands); returns the job at once, or with wait once it ended',
  })
  async classifyImages(
    @Arg('imageIds', () => [ID], {
      description: '1 to 100 images you can see (duplicates counted once); results in this order',
    })
    imageIds: string[],
    @Args(() => ClassifyOptionsArgs) options: ClassifyOptionsArgs,
    @Arg('wait', () => Boolean, { defaultValue: false, description: WAIT_DESCRIPTION }) wait: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<JobType> {
    return settleOne(ctx, user, await jobs(ctx).classifyImages(ctx.em, user, { imageIds, ...options }), wait);
  }

  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => JobType, {
    description:
      'Queues a weighted segmentation ensemble over the images; returns the job at once, or with wait once it ended',
  })
  async segmentImages(
    @Arg('imageIds', () => [ID], {
      description: '1 to 100 images you can see (duplicates counted once); results in this order',
    })
    imageIds: string[],
    @Arg('members', () => [EnsembleMemberInput], {
      description: 'The segmentation models, 1 to 8; their probability maps are averaged by weight',
    })
    members: EnsembleMemberInput[],
    @Arg('threshold', () => Float, {
      defaultValue: 0.5,
      description: 'Ensemble probability at or above which a pixel is lesion, 0..1',
    })
    threshold: number,
    @Arg('groundTruth', () => [GroundTruthInput], {
      nullable: true,
      description: 'Masks to score against: the segmentation then carries Dice and Jaccard',
    })
    groundTruth: GroundTruthInput[] | null,
    @Arg('wait', () => Boolean, { defaultValue: false, description: WAIT_DESCRIPTION }) wait: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<JobType> {
    const job = await jobs(ctx).segmentImages(ctx.em, user, { imageIds, members, threshold, groundTruth });
    return settleOne(ctx, user, job, wait);
  }

  @Authorized()
  @Query(() => JobType, {
    nullable: true,
    description:
      'A job you queued (admins: any); null when there is none or one of its patients is no longer shared with you',
  })
  async job(
    @Arg('id', () => ID, { description: 'InferenceJob.id, as the queueing mutation returned it' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<JobType | null> {
    const j = await jobs(ctx).findJob(ctx.em, user, id);
    return j ? toJob(j) : null;
  }

  @Authorized()
  @Query(() => PredictionType, {
    nullable: true,
    description:
      'A prediction on a patient you can see now; null otherwise (docs/auth.md, "Results follow patient access")',
  })
  async prediction(
    @Arg('id', () => ID, { description: 'Prediction.id' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<PredictionType | null> {
    const p = await jobs(ctx).findPrediction(ctx.em, user, id);
    return p ? toPrediction(p, ctx, await imageShaById(ctx).load(p.imageId)) : null;
  }

  @Authorized()
  @Query(() => SegmentationType, {
    nullable: true,
    description:
      'A segmentation on a patient you can see now; null otherwise (docs/auth.md, "Results follow patient access")',
  })
  async segmentation(
    @Arg('id', () => ID, { description: 'Segmentation.id' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<SegmentationType | null> {
    const s = await jobs(ctx).findSegmentation(ctx.em, user, id);
    return s ? toSegmentation(s) : null;
  }

  @Authorized()
  @Subscription(() => JobProgressEventType, {
    description:
      'Every stage of a job in order (events before the subscription are replayed), ending with done, failed or cancelled',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, AppContext>) => {
      if (!context.user) throw unauthenticated();
      return jobs(context).progress(context.em, context.user, args.jobId);
    },
  })
  async inferenceProgress(
    @Arg('jobId', () => ID, { description: 'A job you may read (as job(id)); NOT_FOUND otherwise' }) _jobId: string,
    @Root() e: ProgressEvent,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<JobProgressEventType> {
    // Access is checked at subscribe time; a Grad-CAM event mints URLs, so it is checked again
    // (once per image): a share taken back while the job runs stops them.
    const gradCam =
      e.gradCam && (await jobs(ctx).findJob(ctx.em.fork(), user, e.jobId))
        ? toGradCam(e.gradCam.method, '', '', e.gradCam, ctx)
        : null;
    return toProgressEvent(e, gradCam);
  }
}

@Resolver(() => GradCamType)
export class GradCamFieldsResolver {
  @FieldResolver(() => String, {
    description:
      'Signed URL (stable within a SIGNED_URL_TTL_SECONDS window, as Image.url) of the heatmap over the full-resolution image, PNG, rendered on first request then cached',
  })
  overlayUrl(
    @Root() g: GradCamType,
    @Arg('opacity', () => Float, {
      defaultValue: 0.5,
      description: 'Weight of the heatmap colour, 0..1 (rounded to two decimals; 0 = the image alone)',
    })
    opacity: number,
    @Ctx() ctx: AppContext,
  ): string {
    return resultUrls(ctx).gradCam(g.files, opacityVariant(opacity));
  }
}

@Resolver(() => SegmentationType)
export class SegmentationFieldsResolver {
  @FieldResolver(() => String, {
    description:
      'Signed URL (stable within a SIGNED_URL_TTL_SECONDS window, as Image.url) of the binary mask PNG (255 = lesion, 0 = background) at the image resolution',
  })
  maskUrl(@Root() s: SegmentationType, @Ctx() ctx: AppContext): string {
    return resultUrls(ctx).segmentation(s.id, 'mask');
  }

  @FieldResolver(() => String, {
    description:
      'Why the grade: the condition of the severity table (docs/inference.md, "Severity") that decided it, with the figures and the cut points in force (SEVERITY_*); says so when the grade was made under other cut points',
  })
  severityReason(@Root() s: SegmentationType, @Ctx() ctx: AppContext): string {
    const { areaPercent, circularity } = s.metrics;
    return storedSeverityReason(s.severity, areaPercent, circularity, severityOf(ctx.services.config));
  }

  @FieldResolver(() => [SegmentationMemberResult], {
    description:
      'Each member’s own result, in the members’ order; empty on segmentations stored before members’ outputs were kept',
  })
  memberResults(@Root() s: SegmentationType, @Ctx() ctx: AppContext): SegmentationMemberResult[] {
    return memberResults(s.memberRecords, (i) => resultUrls(ctx).segmentation(s.id, memberMaskVariant(i)));
  }

  @FieldResolver(() => String, {
    description: 'Signed URL (as maskUrl) of the ensemble probability map, PNG, grey = round(P * 255)',
  })
  probabilityUrl(@Root() s: SegmentationType, @Ctx() ctx: AppContext): string {
    return resultUrls(ctx).segmentation(s.id, 'probability');
  }

  @FieldResolver(() => String, {
    description:
      'Signed URL (as maskUrl) of the mask over the image, PNG: lesion tinted red at opacity, its outline green',
  })
  overlayUrl(
    @Root() s: SegmentationType,
    @Arg('opacity', () => Float, {
      defaultValue: 0.5,
      description: 'Opacity of the red lesion tint, 0..1 (rounded to two decimals); the green outline stays opaque',
    })
    opacity: number,
    @Ctx() ctx: AppContext,
  ): string {
    return resultUrls(ctx).segmentation(s.id, opacityVariant(opacity));
  }
}

@Resolver(() => JobProgressEventType)
export class ProgressFieldsResolver {
  @FieldResolver(() => PredictionType, { nullable: true, description: 'The prediction, once persisted' })
  async prediction(
    @Root() e: JobProgressEventType,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<PredictionType | null> {
    if (!e.predictionId || e.stage !== 'persisted') return null;
    const p = await jobs(ctx).findPrediction(ctx.em.fork(), user, e.predictionId);
    return p ? toPrediction(p, ctx, await imageShaById(ctx).load(p.imageId)) : null;
  }

  @FieldResolver(() => SegmentationType, { nullable: true, description: 'The segmentation, once persisted' })
  async segmentation(
    @Root() e: JobProgressEventType,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<SegmentationType | null> {
    if (!e.segmentationId) return null;
    const s = await jobs(ctx).findSegmentation(ctx.em.fork(), user, e.segmentationId);
    return s ? toSegmentation(s) : null;
  }
}
