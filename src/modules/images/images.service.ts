import type { EntityManager } from '@mikro-orm/postgresql';
import type { Image } from '../../entities';
import { keyset, keysetPage, queryTag, type Page } from '../../infra/pagination';
import { countImages, findImages, type ImageScope } from './images.repository';

export interface ImageWindow {
  first?: number | null;
  after?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** The cursor tag of an image history (the batched first page uses the same, so its endCursor continues here). */
export const imagesTag = (scope: ImageScope, w: ImageWindow): string =>
  queryTag(['images', scope, w.since?.toISOString() ?? null, w.until?.toISOString() ?? null]);

/** Counts the images of a history's window (the `totalCount` thunk of its pages). */
export const imagesCount = (em: EntityManager, scope: ImageScope, w: ImageWindow) => (): Promise<number> =>
  countImages(em, scope, w);

/** Images of a patient or of a lesion, newest first. The caller has checked access to the scope. */
export async function listImages(em: EntityManager, scope: ImageScope, args: ImageWindow): Promise<Page<Image>> {
  const tag = imagesTag(scope, args);
  const k = keyset(tag, args);
  const rows = await findImages(em, scope, { ...args, tag, take: k.limit + 1 });
  return keysetPage(tag, rows, k, (r) => r, imagesCount(em, scope, args));
}
