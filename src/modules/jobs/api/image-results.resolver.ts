import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Prediction, Role, Segmentation, type Image } from '../../../entities';
import { pageSize, queryTag, toPage, type Page } from '../../../infra/pagination';
import type { AppContext } from '../../../schema/context';
import { requestLoader } from '../../../schema/loaders';
import { ImageType } from '../../images';
import { ResultHistoryArgs } from '../../patients';
import {
  countResultsOfImage,
  countResultsOfImages,
  firstResultsOfImages,
  latestPredictionsOfImages,
  listResultsOfImage,
  type ImageResultFilter,
} from '../navigation.repository';
import { PredictionConnection, PredictionType, SegmentationConnection } from './jobs.types';
import { toPrediction, toSegmentation } from './views';

type Result = Prediction | Segmentation;

/** The caller; anonymous (never through the schema's signed-in roots) sees no patient, as a researcher. */
const callerOf = (ctx: AppContext) => ctx.user ?? { id: '', role: Role.RESEARCHER };

/** First page (limit + 1 rows) of Image.predictions / Image.segmentations, batched over the images of a request. */
const firstResults = <T extends Result>(ctx: AppContext, entity: new () => T, take: number) =>
  requestLoader<string, T[]>(ctx, `imageResults:${entity.name}:${take}`, async (ids) => {
    const m = await firstResultsOfImages(ctx.em, callerOf(ctx), entity, ids, take);
    return ids.map((id) => m.get(id) ?? []);
  });

/** Unfiltered result counts of the images of a request. */
const resultCount = (ctx: AppContext, entity: new () => Result) =>
  requestLoader<string, number>(ctx, `imageResultCount:${entity.name}`, async (ids) => {
    const m = await countResultsOfImages(ctx.em, callerOf(ctx), entity, ids);
    return ids.map((id) => m.get(id) ?? 0);
  });

/** The newest prediction of each image of a request. */
const latestPrediction = (ctx: AppContext) =>
  requestLoader<string, Prediction | null>(ctx, 'latestPredictionByImage', async (ids) => {
    const m = await latestPredictionsOfImages(ctx.em, callerOf(ctx), ids);
    return ids.map((id) => m.get(id) ?? null);
  });

/**
 * Answers Image.latestPrediction of this request's images from rows it already holds: the predictions its own
 * jobs just stored for images it just uploaded (uploadImages with wait). The caller has just written to their
 * patient, and the job's prediction is their newest unless another request classified them in the milliseconds
 * since, so the read this saves would have answered the same.
 */
export function primeLatestPredictions(ctx: AppContext, rows: readonly Record<string, unknown>[]): void {
  const loader = latestPrediction(ctx);
  for (const row of rows) {
    const p = ctx.em.map(Prediction, row);
    loader.prime(p.imageId, p);
  }
}

/** The page with its count thunk (Connection.totalCount: the statement runs only when a client selects it). */
const counted = <T>(page: Page<T>, totalCount: () => Promise<number>): Page<T> => Object.assign(page, { totalCount });

/** An image's predictions or segmentations: the batched first page when no cursor or filter is given. */
async function resultsOf<T extends Result>(
  ctx: AppContext,
  entity: new () => T,
  imageId: string,
  args: ResultHistoryArgs,
): Promise<Page<T>> {
  const filter: ImageResultFilter = {
    since: args.since ?? null,
    until: args.until ?? null,
    model: args.model?.trim() || null,
  };
  const limit = pageSize(args.first);
  const tag = queryTag([entity.name, 'image', imageId, filter.since, filter.until, filter.model]);
  const key = (r: T) => r;
  if (args.after || filter.since || filter.until || filter.model) {
    const rows = await listResultsOfImage(ctx.em, callerOf(ctx), entity, imageId, {
      ...filter,
      tag,
      after: args.after,
      take: limit + 1,
    });
    return counted(toPage(tag, rows, limit, key), () =>
      countResultsOfImage(ctx.em, callerOf(ctx), entity, imageId, filter),
    );
  }
  const rows = await firstResults(ctx, entity, limit + 1).load(imageId);
  return counted(toPage(tag, rows, limit, key), () => resultCount(ctx, entity).load(imageId));
}

/**
 * The results of an image (the images module does not know results; this module adds them). Like
 * Patient.predictions, each row's patient must be one the caller may see now.
 */
@Resolver(() => ImageType)
export class ImageResultsResolver {
  @FieldResolver(() => PredictionConnection, {
    description: 'Classifications of the image, newest first; filter by date and model name',
  })
  async predictions(
    @Root() image: Image,
    @Args(() => ResultHistoryArgs) args: ResultHistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<Page<PredictionType>> {
    const page = await resultsOf(ctx, Prediction, image.id, args);
    return { ...page, edges: page.edges.map((e) => ({ ...e, node: toPrediction(e.node, ctx, image.sha256) })) };
  }

  @FieldResolver(() => SegmentationConnection, {
    description: 'Segmentations of the image, newest first; filter by date and model name',
  })
  async segmentations(
    @Root() image: Image,
    @Args(() => ResultHistoryArgs) args: ResultHistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<Page<ReturnType<typeof toSegmentation>>> {
    const page = await resultsOf(ctx, Segmentation, image.id, args);
    return { ...page, edges: page.edges.map((e) => ({ ...e, node: toSegmentation(e.node) })) };
  }

  @FieldResolver(() => PredictionType, {
    nullable: true,
    description:
      'The newest classification of the image; null before the first, or when the caller may no longer see its patient',
  })
  async latestPrediction(@Root() image: Image, @Ctx() ctx: AppContext): Promise<PredictionType | null> {
    const p = await latestPrediction(ctx).load(image.id);
    return p ? toPrediction(p, ctx, image.sha256) : null;
  }
}
