import type { EntityManager } from '@mikro-orm/postgresql';
import type { Prediction, Segmentation } from '../../../entities';
import { keyset, keysetPage, queryTag, type Page } from '../../../infra/pagination';
import type { ResultRepository } from '../results.repository';

/** The window of a patient's result history: paging, dates, and a model name its members must include. */
export interface ResultWindow {
  first: number | null;
  after: string | null;
  since: Date | null;
  until: Date | null;
  model: string | null;
}

/** The cursor tag of a patient's result history (the batched first page uses the same, so its endCursor continues here). */
export function resultsTag(entity: new () => Prediction | Segmentation, patientId: string, w: ResultWindow): string {
  return queryTag([
    entity.name,
    patientId,
    w.since?.toISOString() ?? null,
    w.until?.toISOString() ?? null,
    w.model?.trim() || null,
  ]);
}

/** Counts the results of a patient's window (the `totalCount` thunk of its pages). */
export const countPatientResults =
  (
    results: ResultRepository,
    em: EntityManager,
    entity: new () => Prediction | Segmentation,
    patientId: string,
    w: ResultWindow,
  ) =>
  (): Promise<number> =>
    results.countForPatient(em, entity, patientId, { since: w.since, until: w.until, model: w.model?.trim() || null });

/** Predictions or segmentations of a patient, newest first, by date and model. The caller has checked access to the patient. */
export async function listPatientResults<T extends Prediction | Segmentation>(
  results: ResultRepository,
  em: EntityManager,
  entity: new () => T,
  patientId: string,
  w: ResultWindow,
): Promise<Page<T>> {
  const tag = resultsTag(entity, patientId, w);
  const k = keyset(tag, w);
  const rows = await results.listForPatient(em, entity, patientId, {
    ...w,
    model: w.model?.trim() || null,
    tag,
    take: k.limit + 1,
  });
  return keysetPage(tag, rows, k, (r) => r, countPatientResults(results, em, entity, patientId, w));
}
