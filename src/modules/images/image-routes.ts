import { Router, type Response } from 'express';
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../infra/config';
import { Image } from '../../entities';
import type { FileStore } from '../../infra/storage/file-store';
import { checkSignature } from '../../infra/storage/signed-urls';
import { isUuid } from '../patients/access-policy';
import { derivedKey, ImageVariant, makeDerivedCopies, probeImage, sniffDerivedType } from './image-processing';
import type { Logger } from '../../infra/observability/logger';

export interface ImageRouteDeps {
  config: Config;
  store: FileStore;
  forkEm: () => EntityManager;
  logger: Logger;
}

const VARIANTS: Record<string, ImageVariant> = {
  original: ImageVariant.ORIGINAL,
  normalized: ImageVariant.NORMALIZED,
  thumbnail: ImageVariant.THUMBNAIL,
};

function refuse(res: Response, status: number, code: string, message: string): void {
  res
    .status(status)
    .set('cache-control', 'no-store')
    .json({ errors: [{ message, extensions: { code } }] });
}

/**
 * GET /files/images/:id/:variant?exp=&sig= — the signed URLs of Image.url. The signature is the
 * authorisation (checked in constant time before any lookup): wrong or expired gets 403.
 * Derived copies are made once (at upload; again only if the cache was cleared) and served from the cache.
 */
export function imageRouter(deps: ImageRouteDeps): Router {
  const router = Router();
  const inflight = new Map<string, Promise<void>>();

  /** Re-makes the derived copies of `image` into the cache, once even under concurrent requests. */
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

  router.get('/files/images/:id/:variant', async (req, res, next) => {
    try {
      const variantName = String(req.params.variant);
      const variant = VARIANTS[variantName];
      const id = String(req.params.id);
      const check = checkSignature(
        deps.config.URL_SIGNING_SECRET,
        { kind: 'image', id, variant: variantName },
        req.query.exp,
        req.query.sig,
      );
      if (check !== 'OK' || !variant) {
        return refuse(res, 403, 'FORBIDDEN', check === 'EXPIRED' ? 'This link has expired' : 'Invalid signature');
      }
      if (!isUuid(id)) return refuse(res, 404, 'NOT_FOUND', 'Image not found');
      const image = await deps.forkEm().findOne(Image, { id });
      if (!image) return refuse(res, 404, 'NOT_FOUND', 'Image not found');

      let file: string;
      let type: string;
      if (variant === ImageVariant.ORIGINAL) {
        file = deps.store.path(image.sha256);
        type = image.mimeType;
      } else {
        const key = derivedKey(variant);
        let cached = await deps.store.cachedPath(image.sha256, key);
        if (!cached) {
          await ensureDerived(image);
          cached = await deps.store.cachedPath(image.sha256, key);
        }
        file = cached!;
        const fh = await fs.open(file, 'r');
        const head = Buffer.alloc(8);
        await fh.read(head, 0, 8, 0);
        await fh.close();
        type = sniffDerivedType(head);
      }
      const stat = await fs.stat(file);
      const secondsLeft = Math.max(0, Number(req.query.exp) - Math.floor(Date.now() / 1000));
      res.set({
        'content-type': type,
        'content-length': String(stat.size),
        // Content is immutable for its URL (content-addressed); the URL itself expires, so caches may keep it that long.
        'cache-control': `private, max-age=${secondsLeft}, immutable`,
        etag: `"${image.sha256}-${variantName}"`,
        'x-content-type-options': 'nosniff',
        'content-disposition': 'inline',
      });
      if (req.headers['if-none-match'] === `"${image.sha256}-${variantName}"`) return void res.status(304).end();
      createReadStream(file).on('error', next).pipe(res);
    } catch (err) {
      deps.logger.error({ err }, 'image route failed');
      next(err);
    }
  });
  return router;
}
