import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Image, Lesion, Patient, PatientShare, Prediction, Segmentation, User } from '../../entities';
import type { AppContext } from '../../schema/context';
import { byId, requestLoader as loader } from '../../schema/loaders';
import { uuidArray } from '../../infra/database/sql';

export const patientById = (ctx: AppContext) =>
  loader<string, Patient | null>(ctx, 'patientById', async (ids) =>
    byId(await ctx.em.find(Patient, { id: { $in: [...ids] } }), ids),
  );

/** sha256 of each image (Grad-CAM overlays of a prediction are signed against the image's file). */
export const imageShaById = (ctx: AppContext) =>
  loader<string, string | null>(ctx, 'imageShaById', async (ids) => {
    const rows = (await ctx.em.execute(`select id, sha256 from images where id = any(?::uuid[])`, [
      uuidArray(ids),
    ])) as { id: string; sha256: string }[];
    const m = new Map(rows.map((r) => [r.id, r.sha256]));
    return ids.map((id) => m.get(id) ?? null);
  });

export const lesionById = (ctx: AppContext) =>
  loader<string, Lesion | null>(ctx, 'lesionById', async (ids) =>
    byId(await ctx.em.find(Lesion, { id: { $in: [...ids] } }), ids),
  );

/** Lesions of each patient, newest first. */
export const lesionsByPatient = (ctx: AppContext) =>
  loader<string, Lesion[]>(ctx, 'lesionsByPatient', async (ids) => {
    const rows = await ctx.em.find(
      Lesion,
      { patient: { $in: [...ids] } },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    return ids.map((id) => rows.filter((r) => r.patient.id === id));
  });

/**
 * The first `take` rows (newest first) of `table` for each of many parents in ONE statement:
 * row_number() over a partition per parent, so a page of 50 patients costs one query, not 50.
 */
async function firstRowsOf<T extends object>(
  em: EntityManager,
  entity: new () => T,
  table: string,
  column: string,
  ids: readonly string[],
  take: number,
): Promise<Map<string, T[]>> {
  const rows = (await em.execute(
    `select * from (select r.*, row_number() over (partition by r.${column} order by r.created_at desc, r.id desc) as rn
       from ${table} r where r.${column} = any(?::uuid[])) t where t.rn <= ? order by t.created_at desc, t.id desc`,
    [uuidArray(ids), take],
  )) as Record<string, unknown>[];
  const out = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const raw of rows) {
    const parent = String(raw[column]);
    delete raw.rn;
    out.get(parent)?.push(em.map(entity, raw));
  }
  return out;
}

/** First page (limit + 1 rows) of Patient.images / Lesion.images when no cursor or filter is given. */
export const firstImages = (ctx: AppContext, column: 'patient_id' | 'lesion_id', take: number) =>
  loader<string, Image[]>(ctx, `firstImages:${column}:${take}`, async (ids) => {
    const m = await firstRowsOf(ctx.em, Image, 'images', column, ids, take);
    return ids.map((id) => m.get(id) ?? []);
  });

/** First page (limit + 1 rows) of Patient.predictions / Patient.segmentations when no cursor or filter is given. */
export const firstResults = <T extends Prediction | Segmentation>(ctx: AppContext, entity: new () => T, take: number) =>
  loader<string, T[]>(ctx, `firstResults:${entity.name}:${take}`, async (ids) => {
    const table = entity === (Prediction as unknown) ? 'predictions' : 'segmentations';
    const m = await firstRowsOf(ctx.em, entity, table, 'patient_id', ids, take);
    return ids.map((id) => m.get(id) ?? []);
  });

/** The newest prediction of each patient (DISTINCT ON: one statement for the whole page). */
export const latestPredictionByPatient = (ctx: AppContext) =>
  loader<string, Prediction | null>(ctx, 'latestPredictionByPatient', async (ids) => {
    const rows = (await ctx.em.execute(
      `select distinct on (p.patient_id) p.* from predictions p where p.patient_id = any(?::uuid[]) order by p.patient_id, p.created_at desc, p.id desc`,
      [uuidArray(ids)],
    )) as Record<string, unknown>[];
    const m = new Map(rows.map((r) => [String(r.patient_id), ctx.em.map(Prediction, r)]));
    return ids.map((id) => m.get(id) ?? null);
  });

/** Number of images of each patient. */
export const imageCountByPatient = (ctx: AppContext) =>
  loader<string, number>(ctx, 'imageCountByPatient', async (ids) => {
    const rows = (await ctx.em.execute(
      `select patient_id, count(*)::int as n from images where patient_id = any(?::uuid[]) group by patient_id`,
      [uuidArray(ids)],
    )) as {
      patient_id: string;
      n: number;
    }[];
    const m = new Map(rows.map((r) => [r.patient_id, r.n]));
    return ids.map((id) => m.get(id) ?? 0);
  });

export const userById = (ctx: AppContext) =>
  loader<string, User | null>(ctx, 'userById', async (ids) =>
    byId(await ctx.em.find(User, { id: { $in: [...ids] } }), ids),
  );

/** Clinicians each patient is shared with. */
export const sharedWithByPatient = (ctx: AppContext) =>
  loader<string, User[]>(ctx, 'sharedWithByPatient', async (ids) => {
    const shares = await ctx.em.find(
      PatientShare,
      { patient: { $in: [...ids] } },
      { populate: ['user'], orderBy: { createdAt: 'asc' } },
    );
    return ids.map((id) => shares.filter((s) => s.patient.id === id).map((s) => s.user));
  });
