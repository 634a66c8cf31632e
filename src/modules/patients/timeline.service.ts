import type { EntityManager } from '@mikro-orm/postgresql';
import { Image, Lesion, PatientEvent, Prediction, Segmentation } from '../../entities';
import { decodeBoundCursor, queryTag, toPage, type Page } from '../../infra/pagination';
import { pageSize } from '../../infra/pagination';

export type TimelineSource = 'EVENT' | 'LESION' | 'IMAGE' | 'PREDICTION' | 'SEGMENTATION';

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
 * Everything that happened to a patient, newest first, as one keyset-paged list: a UNION ALL of
 * (source, id, created_at) over the tables, then one query per source for the page's rows.
 */
export async function patientTimeline(
  em: EntityManager,
  patientId: string,
  args: { first?: number | null; after?: string | null },
): Promise<Page<TimelineItem>> {
  const limit = pageSize(args.first);
  const tag = queryTag(['timeline', patientId]);
  const params: unknown[] = [patientId, patientId, patientId, patientId, patientId];
  let where = '';
  if (args.after) {
    const c = decodeBoundCursor(tag, args.after);
    where = 'where (t.created_at, t.id) < (?, ?)';
    params.push(c.createdAt, c.id);
  }
  params.push(limit + 1);
  const rows = (await em.execute(
    `select t.source, t.id, t.created_at from (
       select 'EVENT' as source, id, created_at from patient_events where patient_id = ?
       union all select 'LESION', id, created_at from lesions where patient_id = ?
       union all select 'IMAGE', id, created_at from images where patient_id = ?
       union all select 'PREDICTION', id, created_at from predictions where patient_id = ?
       union all select 'SEGMENTATION', id, created_at from segmentations where patient_id = ?
     ) t ${where} order by t.created_at desc, t.id desc limit ?`,
    params,
  )) as { source: TimelineSource; id: string; created_at: Date | string }[];

  const bySource = new Map<TimelineSource, string[]>();
  for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r.id]);
  const loaded = new Map<string, object>();
  await Promise.all(
    [...bySource].map(async ([source, ids]) => {
      const found = (await em.find(ENTITIES[source] as never, { id: { $in: ids } } as never)) as { id: string }[];
      for (const e of found) loaded.set(`${source}:${e.id}`, e);
    }),
  );
  const items = rows
    .map((r) => ({
      source: r.source,
      id: r.id,
      createdAt: new Date(r.created_at),
      entity: loaded.get(`${r.source}:${r.id}`),
    }))
    .filter((i) => i.entity) as TimelineItem[];
  return toPage(tag, items, limit, (i) => i);
}
