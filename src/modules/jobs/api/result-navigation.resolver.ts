import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { JobKind, type Image, type Prediction } from '../../../entities';
import type { AppContext } from '../../../schema/context';
import type { NodeSource } from '../../../schema/node';
import { ImageType, imageShaById } from '../../images';
import { accessibleById } from '../../patients';
import { JobType, PredictionType, SegmentationType } from './jobs.types';
import { toJob, toPrediction, toSegmentation } from './views';

const jobs = (ctx: AppContext) => ctx.services.inference.service;

/** A prediction as the API shows it (its Grad-CAM URLs are signed against its image's file). */
const predictionView = async (ctx: AppContext, p: Prediction): Promise<PredictionType> =>
  toPrediction(p, ctx, await imageShaById(ctx).load(p.imageId));

/** The rows behind `ids` the caller may read now, in the order of `ids` (the others left out). */
async function readable<P extends 'prediction:read' | 'segmentation:read'>(
  ctx: AppContext,
  permission: P,
  ids: string[],
) {
  const rows = await Promise.all(ids.map((id) => accessibleById(ctx, permission).load(id)));
  return rows.filter((r) => r !== null);
}

/**
 * `node(id)` for jobs and their results: the rules of `job(id)` (the owner, while every image's
 * patient is still visible to them; admins), `prediction(id)` and `segmentation(id)`.
 */
export const jobNodes: NodeSource[] = [
  {
    type: 'InferenceJob',
    table: 'inference_jobs',
    load: async (ctx, id) => {
      const j = ctx.user ? await jobs(ctx).findJob(ctx.em, ctx.user, id) : null;
      return j ? toJob(j) : null;
    },
  },
  {
    type: 'Prediction',
    table: 'predictions',
    load: async (ctx, id) => {
      const p = await accessibleById(ctx, 'prediction:read').load(id);
      return p ? predictionView(ctx, p) : null;
    },
  },
  {
    type: 'Segmentation',
    table: 'segmentations',
    load: async (ctx, id) => {
      const s = await accessibleById(ctx, 'segmentation:read').load(id);
      return s ? toSegmentation(s) : null;
    },
  },
];

/** From a job to its results: the objects behind `resultIds`. */
@Resolver(() => JobType)
export class JobResultsResolver {
  @FieldResolver(() => [PredictionType], {
    description:
      'The predictions of a CLASSIFY job, in image order, as they land (empty for SEGMENT); those of patients the caller may no longer see are left out',
  })
  async predictions(@Root() job: JobType, @Ctx() ctx: AppContext): Promise<PredictionType[]> {
    if (job.kind !== JobKind.CLASSIFY) return [];
    const rows = await readable(ctx, 'prediction:read', job.resultIds);
    return Promise.all(rows.map((p) => predictionView(ctx, p)));
  }

  @FieldResolver(() => [SegmentationType], {
    description:
      'The segmentations of a SEGMENT job, in image order, as they land (empty for CLASSIFY); those of patients the caller may no longer see are left out',
  })
  async segmentations(@Root() job: JobType, @Ctx() ctx: AppContext): Promise<SegmentationType[]> {
    if (job.kind !== JobKind.SEGMENT) return [];
    return (await readable(ctx, 'segmentation:read', job.resultIds)).map(toSegmentation);
  }
}

const IMAGE = {
  nullable: true,
  description: 'The image it was computed on; null when the caller may no longer see its patient',
} as const;

@Resolver(() => PredictionType)
export class PredictionImageResolver {
  @FieldResolver(() => ImageType, IMAGE)
  image(@Root() p: PredictionType, @Ctx() ctx: AppContext): Promise<Image | null> {
    return accessibleById(ctx, 'image:read').load(p.imageId);
  }
}

@Resolver(() => SegmentationType)
export class SegmentationImageResolver {
  @FieldResolver(() => ImageType, IMAGE)
  image(@Root() s: SegmentationType, @Ctx() ctx: AppContext): Promise<Image | null> {
    return accessibleById(ctx, 'image:read').load(s.imageId);
  }
}
