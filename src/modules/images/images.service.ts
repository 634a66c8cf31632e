import type { EntityManager } from '@mikro-orm/postgresql';
import type { Image } from '../../entities';
import { pageSize, queryTag, toPage, type Page } from '../../infra/pagination';
import { findImages, type ImageScope } from './images.repository';

export interface ImageWindow {
  first?: number | null;
  after?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** The cursor tag of an image history (the batched first page uses the same, so its endCursor continues here). */
export const imagesTag = (scope: ImageScope, w: ImageWindow): string =>
  queryTag(['images', scope, w.since?.toISOString() ?? null, w.until?.toISOString() ?? null]);

/** Images of a patient or of a lesion, newest first. The caller has checked access to the scope. */
export async function listImages(em: EntityManager, scope: ImageScope, args: ImageWindow): Promise<Page<Image>> {
  const limit = pageSize(args.first);
  const tag = imagesTag(scope, args);
  const rows = await findImages(em, scope, { ...args, tag, take: limit + 1 });
  return toPage(tag, rows, limit, (r) => r);
}
