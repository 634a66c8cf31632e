import type { Image } from '../../entities';
import type { AppContext } from '../../schema/context';
import { requestLoader } from '../../schema/loaders';
import { countImagesByPatient, firstImagesOf, imageShas } from './images.repository';

/** First page (limit + 1 rows) of Patient.images / Lesion.images when no cursor or filter is given. */
export const firstImages = (ctx: AppContext, column: 'patient_id' | 'lesion_id', take: number) =>
  requestLoader<string, Image[]>(ctx, `firstImages:${column}:${take}`, async (ids) => {
    const m = await firstImagesOf(ctx.em, column, ids, take);
    return ids.map((id) => m.get(id) ?? []);
  });

/** Number of images of each patient. */
export const imageCountByPatient = (ctx: AppContext) =>
  requestLoader<string, number>(ctx, 'imageCountByPatient', async (ids) => {
    const m = await countImagesByPatient(ctx.em, ids);
    return ids.map((id) => m.get(id) ?? 0);
  });

/** sha256 of each image (Grad-CAM overlays of a prediction are signed against the image's file). */
export const imageShaById = (ctx: AppContext) =>
  requestLoader<string, string | null>(ctx, 'imageShaById', async (ids) => {
    const m = await imageShas(ctx.em, ids);
    return ids.map((id) => m.get(id) ?? null);
  });
