import type { EntityManager } from '@mikro-orm/postgresql';
import { Image, Lesion, PatientEvent, Prediction, Segmentation } from '../../entities';
import { keyset, keysetPage, queryTag, type Page, type PageArgs } from '../../infra/pagination';
import { countTimeline, timelineRows, type TimelineSource } from './patients.repository';

/** One row of a patient's timeline: where it comes from and the entity itself. */
export type TimelineItem =
  | { source: 'EVENT'; id: string; createdAt: Date; entity: PatientEvent }
  | { source: 'LESION'; id: string; createdAt: Date; entity: Lesion }
  | { source: 'IMAGE'; id: string; createdAt: Date; entity: Image }
  | { source: 'PREDICTION'; id: string; createdAt: Date; entity: Prediction }
  | { source: 'SEGMENTATION'; id: string; createdAt: Date; entity: Segmentation };

const ENTITIES = {
  EVENT: PatientEvent,
  LESION: Lesion,
  IMAGE: Image,
  PREDICTION: Prediction,
  SEGMENTATION: Segmentation,
} as const;

/**
 * Everything that happened to a patient, newest first, as one keyset-paged list read forwards
 * (`first`, `after`) or backwards (`last`, `before`): the page's (source, id) in one statement,
 * then one query per source for the page's rows.
 */
export async function patientTimeline(
  em: EntityManager,
  patientId: string,
  args: PageArgs,
): Promise<Page<TimelineItem>> {
  const tag = queryTag(['timeline', patientId]);
  const k = keyset(tag, args);
  const rows = await timelineRows(em, patientId, k, k.limit + 1);

  const bySource = new Map<TimelineSource, string[]>();
  for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r.id]);
  const loaded = new Map<string, object>();
  await Promise.all(
    [...bySource].map(async ([source, ids]) => {
      const found = (await em.find(ENTITIES[source] as never, { id: { $in: ids } } as never)) as { id: string }[];
      for (const e of found) loaded.set(`${source}:${e.id}`, e);
    }),
  );
  // A row deleted between the two reads is left out.
  const items = rows
    .map((r) => ({ ...r, entity: loaded.get(`${r.source}:${r.id}`) }))
    .filter((i) => i.entity) as TimelineItem[];
  return keysetPage(
    tag,
    items,
    k,
    (i) => i,
    () => countTimeline(em, patientId),
  );
}
