import fs from 'node:fs/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../infra/config';
import { Image } from '../../entities';
import { forbidden, notFound } from '../../infra/errors';
import type { FileStore } from '../../infra/storage/file-store';
import type { SignedFileRoute } from '../../infra/http/signed-files';
import { isUuid } from '../../infra/database/sql';
import { derivedKey, ImageVariant, makeDerivedCopies, probeImage, sniffDerivedType } from './image-processing';

export interface ImageRouteDeps {
  config: Config;
  store: FileStore;
  forkEm: () => EntityManager;
}

const VARIANTS: Record<string, ImageVariant> = {
  original: ImageVariant.ORIGINAL,
  normalized: ImageVariant.NORMALIZED,
  thumbnail: ImageVariant.THUMBNAIL,
};

/**
 * `/files/images/:id/:variant` (the signed URLs of Image.url), for the signed-file router.
 * Derived copies are made once, when first asked for (again only if the cache was cleared), and served from the cache.
 */
export function imageFileRoute(deps: ImageRouteDeps): SignedFileRoute {
  const inflight = new Map<string, Promise<void>>();

  /** Makes the derived copies of `image` into the cache, once even under concurrent requests. */
  const ensureDerived = (image: Image): Promise<void> => {
    let p = inflight.get(image.sha256);
    if (!p) {
      p = (async () => {
        const src = deps.store.path(image.sha256);
        const info = await probeImage(src, deps.config.UPLOAD_MAX_PIXELS);
        const copies = await makeDerivedCopies(src, info, deps.config.UPLOAD_MAX_PIXELS);
        await deps.store.putCached(image.sha256, derivedKey(ImageVariant.NORMALIZED), copies.NORMALIZED.data);
        await deps.store.putCached(image.sha256, derivedKey(ImageVariant.THUMBNAIL), copies.THUMBNAIL.data);
      })().finally(() => inflight.delete(image.sha256));
      inflight.set(image.sha256, p);
    }
    return p;
  };

  return {
    kind: 'image',
    async serve({ id, variant: variantName }) {
      const variant = VARIANTS[variantName];
      // Only known variants are ever signed.
      if (!variant) throw forbidden('Invalid signature');
      if (!isUuid(id)) throw notFound('Image');
      const image = await deps.forkEm().findOne(Image, { id });
      if (!image) throw notFound('Image');
      const etag = `"${image.sha256}-${variantName}"`;
      if (variant === ImageVariant.ORIGINAL) return { path: deps.store.path(image.sha256), type: image.mimeType, etag };
      const key = derivedKey(variant);
      let cached = await deps.store.cachedPath(image.sha256, key);
      if (!cached) {
        await ensureDerived(image);
        cached = await deps.store.cachedPath(image.sha256, key);
      }
      const fh = await fs.open(cached!, 'r');
      const head = Buffer.alloc(8);
      await fh.read(head, 0, 8, 0);
      await fh.close();
      return { path: cached!, type: sniffDerivedType(head), etag };
    },
  };
}
