import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Prediction, Segmentation, type Patient } from '../../../entities';
import { pageSize, toPage, type Page } from '../../../infra/pagination';
import type { AppContext } from '../../../schema/context';
import { requestLoader } from '../../../schema/loaders';
import { imageShaById } from '../../images';
import { historyWindow, PatientType, ResultHistoryArgs } from '../../patients';
import { PredictionConnection, PredictionType, SegmentationConnection } from './jobs.types';
import { countPatientResults, listPatientResults, resultsTag, type ResultWindow } from './patient-results.service';
import { toPrediction, toSegmentation } from './views';

const results = (ctx: AppContext) => ctx.services.inference.results;

/** First page (limit + 1 rows) of Patient.predictions / Patient.segmentations, batched over the patients of a request. */
const firstResults = <T extends Prediction | Segmentation>(ctx: AppContext, entity: new () => T, take: number) =>
  requestLoader<string, T[]>(ctx, `firstResults:${entity.name}:${take}`, async (ids) => {
    const m = await results(ctx).firstForPatients(ctx.em, entity, ids, take);
    return ids.map((id) => m.get(id) ?? []);
  });

/** The newest prediction of each patient of a request. */
const latestPredictionByPatient = (ctx: AppContext) =>
  requestLoader<string, Prediction | null>(ctx, 'latestPredictionByPatient', async (ids) => {
    const m = await results(ctx).latestPredictions(ctx.em, ids);
    return ids.map((id) => m.get(id) ?? null);
  });

/** A patient's predictions or segmentations: the batched first page when no cursor or filter is given. */
async function resultsOf<T extends Prediction | Segmentation>(
  ctx: AppContext,
  entity: new () => T,
  patientId: string,
  w: ResultWindow,
): Promise<Page<T>> {
  if (w.after || w.since || w.until || w.model?.trim())
    return listPatientResults(results(ctx), ctx.em, entity, patientId, w);
  const limit = pageSize(w.first);
  const rows = await firstResults(ctx, entity, limit + 1).load(patientId);
  const count = countPatientResults(results(ctx), ctx.em, entity, patientId, w);
  return toPage(resultsTag(entity, patientId, w), rows, limit, (r) => r, count);
}

const windowOf = (args: ResultHistoryArgs): ResultWindow => ({ ...historyWindow(args), model: args.model ?? null });

/** The results of a patient (the patients module does not know results; this module adds them). */
@Resolver(() => PatientType)
export class PatientResultsResolver {
  @FieldResolver(() => PredictionConnection, {
    description: "Classifications of the patient's images, newest first; filter by date and model name",
  })
  async predictions(
    @Root() p: Patient,
    @Args(() => ResultHistoryArgs) args: ResultHistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<PredictionConnection> {
    const page = await resultsOf(ctx, Prediction, p.id, windowOf(args));
    const shas = await Promise.all(page.edges.map((e) => imageShaById(ctx).load(e.node.imageId)));
    return {
      ...page,
      edges: page.edges.map((e, i) => ({ cursor: e.cursor, node: toPrediction(e.node, ctx, shas[i]) })),
    };
  }

  @FieldResolver(() => SegmentationConnection, {
    description: "Segmentations of the patient's images, newest first; filter by date and model name",
  })
  async segmentations(
    @Root() p: Patient,
    @Args(() => ResultHistoryArgs) args: ResultHistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<SegmentationConnection> {
    const page = await resultsOf(ctx, Segmentation, p.id, windowOf(args));
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toSegmentation(e.node) })) };
  }

  @FieldResolver(() => PredictionType, {
    nullable: true,
    description: "The newest classification of any of the patient's images",
  })
  async latestPrediction(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<PredictionType | null> {
    const pred = await latestPredictionByPatient(ctx).load(p.id);
    return pred ? toPrediction(pred, ctx, await imageShaById(ctx).load(pred.imageId)) : null;
  }
}
