import type { EntityManager } from '@mikro-orm/postgresql';
import { Image, Lesion, PatientEvent, Prediction, Segmentation } from '../../entities';
import { decodeBoundCursor, pageSize, queryTag, toPage, type Page } from '../../infra/pagination';
import { timelineRows, type TimelineSource } from './patients.repository';

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
 * Everything that happened to a patient, newest first, as one keyset-paged list: the page's
 * (source, id) in one statement, then one query per source for the page's rows.
 */
export async function patientTimeline(
  em: EntityManager,
  patientId: string,
  args: { first?: number | null; after?: string | null },
): Promise<Page<TimelineItem>> {
  const limit = pageSize(args.first);
  const tag = queryTag(['timeline', patientId]);
  const before = args.after ? decodeBoundCursor(tag, args.after) : null;
  const rows = await timelineRows(em, patientId, before, limit + 1);

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
  return toPage(tag, items, limit, (i) => i);
}
