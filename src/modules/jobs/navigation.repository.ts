import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { Prediction } from '../../entities/prediction';
import type { Segmentation } from '../../entities/segmentation';
import { createdBetween, keysetAfter, tableOf, uuidArray } from '../../infra/database/sql';
import { visiblePatientIdSql, type Caller } from '../patients';

/**
 * The results of images (Image.predictions, Image.segmentations, Image.latestPrediction), only
 * those whose patient the caller may see now (the access policy's condition on `r.patient_id`):
 * an image's results follow the image's patient, but the rows are checked all the same.
 */
type Result = Prediction | Segmentation;

/** The window of one image's results: dates, a model name a member must have. */
export interface ImageResultFilter {
  since?: Date | null;
  until?: Date | null;
  model?: string | null;
}

/** The newest `take` results of each image, in one statement (none for a caller who may see no patient). */
export async function firstResultsOfImages<T extends Result>(
  em: EntityManager,
  user: Caller,
  entity: new () => T,
  imageIds: readonly string[],
  take: number,
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(imageIds.map((id) => [id, []]));
  const visible = visiblePatientIdSql(user, 'r.patient_id');
  if (!visible || imageIds.length === 0) return out;
  const rows = (await em.execute(
    `select * from (select r.*, row_number() over (partition by r.image_id order by r.created_at desc, r.id desc) as rn
       from "${tableOf(em, entity)}" r where r.image_id = any(?::uuid[]) and ${visible.sql}) t
     where t.rn <= ? order by t.created_at desc, t.id desc`,
    [uuidArray(imageIds), ...visible.params, take],
  )) as Record<string, unknown>[];
  for (const raw of rows) {
    delete raw.rn;
    out.get(String(raw.image_id))?.push(em.map(entity, raw));
  }
  return out;
}

/** The newest prediction of each image (DISTINCT ON: one statement for all of them). */
export async function latestPredictionsOfImages(
  em: EntityManager,
  user: Caller,
  imageIds: readonly string[],
): Promise<Map<string, Prediction>> {
  const visible = visiblePatientIdSql(user, 'r.patient_id');
  if (!visible || imageIds.length === 0) return new Map();
  const rows = (await em.execute(
    `select distinct on (r.image_id) r.* from predictions r where r.image_id = any(?::uuid[]) and ${visible.sql}
     order by r.image_id, r.created_at desc, r.id desc`,
    [uuidArray(imageIds), ...visible.params],
  )) as Record<string, unknown>[];
  return new Map(rows.map((r) => [String(r.image_id), em.map(Prediction, r)]));
}

/** How many results each image has (no filter), in one statement. */
export async function countResultsOfImages(
  em: EntityManager,
  user: Caller,
  entity: new () => Result,
  imageIds: readonly string[],
): Promise<Map<string, number>> {
  const visible = visiblePatientIdSql(user, 'r.patient_id');
  if (!visible || imageIds.length === 0) return new Map();
  const rows = (await em.execute(
    `select r.image_id, count(*)::int as n from "${tableOf(em, entity)}" r
     where r.image_id = any(?::uuid[]) and ${visible.sql} group by r.image_id`,
    [uuidArray(imageIds), ...visible.params],
  )) as { image_id: string; n: number }[];
  return new Map(rows.map((r) => [String(r.image_id), Number(r.n)]));
}

function imageResults<T extends Result>(
  em: EntityManager,
  user: Caller,
  entity: new () => T,
  imageId: string,
  filter: ImageResultFilter,
): QueryBuilder<T> | null {
  const visible = visiblePatientIdSql(user, 'r.patient_id');
  if (!visible) return null;
  const qb = (em.createQueryBuilder(entity, 'r') as unknown as QueryBuilder<T>)
    .where('r.image_id = ?', [imageId])
    .andWhere(visible.sql, visible.params);
  createdBetween(qb, 'r', filter);
  if (filter.model) qb.andWhere('r.members @> ?::jsonb', [JSON.stringify([{ model: filter.model }])]);
  return qb;
}

/** One image's results, newest first, within the filter, after the cursor of the query tagged `tag`; `take` rows. */
export async function listResultsOfImage<T extends Result>(
  em: EntityManager,
  user: Caller,
  entity: new () => T,
  imageId: string,
  args: ImageResultFilter & { tag: string; after?: string | null; take: number },
): Promise<T[]> {
  const qb = imageResults(em, user, entity, imageId, args);
  if (!qb) return [];
  keysetAfter(qb, 'r', args.tag, args.after);
  return (await qb
    .select('*')
    .orderBy({ createdAt: 'desc', id: 'desc' } as never)
    .limit(args.take)
    .getResultList()) as T[];
}

/** How many results of one image match the filter. */
export async function countResultsOfImage(
  em: EntityManager,
  user: Caller,
  entity: new () => Result,
  imageId: string,
  filter: ImageResultFilter,
): Promise<number> {
  const qb = imageResults(em, user, entity, imageId, filter);
  return qb ? qb.getCount() : 0;
}
