import { readFile } from 'node:fs/promises';
import { Router, type Request, type Response } from 'express';
import type { Config } from '../../../infra/config';
import { Image, Segmentation } from '../../../entities';
import type { FileStore } from '../../../infra/storage/file-store';
import { checkSignature, signedUrl, type SignedTarget } from '../../../infra/storage/signed-urls';
import { validateOpacity } from '../../../inference/render';
import { asBuffer, movable, type ImageWork } from '../runner/image-threads';
import type { Database } from '../../../infra/database/database';

/**
 * Signed URLs of inference results and the route that serves them. Grad-CAM URLs name the files
 * themselves (image and map), so they can be handed out in the `gradcam` progress event,
 * before the prediction row exists; segmentation URLs name the segmentation. Overlays at any
 * opacity are rendered on first request and cached beside the file they derive from.
 */
export interface GradCamFiles {
  imageSha256: string;
  mapSha256: string;
}

const DEFAULT_OPACITY = 0.5;
/** Opacity as it appears in a variant name: two decimals, so 0.5 and 0.50 are one cached file. */
export function opacityVariant(opacity: number | null | undefined, field = 'opacity'): string {
  const o = validateOpacity(opacity ?? DEFAULT_OPACITY, field);
  return `overlay-${o.toFixed(2)}`;
}

export class ResultUrls {
  constructor(private readonly config: Config) {}

  private sign(t: SignedTarget): string {
    return signedUrl(this.config.PUBLIC_URL, this.config.URL_SIGNING_SECRET, t, this.config.SIGNED_URL_TTL_SECONDS);
  }

  gradCam(files: GradCamFiles, variant: 'heatmap' | string): string {
    return this.sign({ kind: 'gradcam', id: `${files.imageSha256}.${files.mapSha256}`, variant });
  }

  segmentation(id: string, variant: 'mask' | 'probability' | string): string {
    return this.sign({ kind: 'segmentation', id, variant });
  }
}

const SHA = /^[0-9a-f]{64}$/;
const OVERLAY = /^overlay-(0\.\d\d|1\.00)$/;

/**
 * Express routes for `/files/gradcams/...` and `/files/segmentations/...` (signed, no session
 * needed). Renderings run on image threads (`images`): a 50-megapixel overlay is seconds of work.
 */
export function resultFilesRouter(deps: { config: Config; db: Database; files: FileStore; images: ImageWork }): Router {
  const { config, files } = deps;
  const router = Router();

  const refuse = (res: Response, status: number, message: string) =>
    res.status(status).type('text/plain').send(message);
  const sendPng = (res: Response, data: Buffer) =>
    res.status(200).type('image/png').setHeader('Cache-Control', 'private, max-age=300').send(data);

  const verified = (req: Request, res: Response, kind: string): { id: string; variant: string } | null => {
    const id = String(req.params.id);
    const variant = String(req.params.variant);
    const check = checkSignature(config.URL_SIGNING_SECRET, { kind, id, variant }, req.query.exp, req.query.sig);
    if (check !== 'OK') {
      refuse(res, 403, check === 'EXPIRED' ? 'URL expired' : 'Invalid signature');
      return null;
    }
    return { id, variant };
  };

  /** A derivative from the cache, or made, stored and sent. */
  const cached = async (res: Response, sha: string, variant: string, make: () => Promise<Buffer>) => {
    const hit = await files.cachedPath(sha, variant);
    if (hit) return sendPng(res, await readFile(hit));
    const png = await make();
    await files.putCached(sha, variant, png);
    sendPng(res, png);
  };

  router.get('/files/gradcams/:id/:variant', async (req, res, next) => {
    try {
      const t = verified(req, res, 'gradcam');
      if (!t) return;
      const [imageSha, mapSha, extra] = t.id.split('.');
      if (extra !== undefined || ![imageSha, mapSha].every((s) => SHA.test(s ?? '')))
        return refuse(res, 404, 'Not found');
      if (t.variant === 'heatmap') {
        return cached(res, mapSha, 'heatmap', async () => {
          const map = movable(await readFile(files.path(mapSha)));
          return asBuffer(await deps.images.run('gradCamHeatmap', { map }, [map.buffer]));
        });
      }
      if (!OVERLAY.test(t.variant)) return refuse(res, 404, 'Not found');
      const opacity = Number(t.variant.slice('overlay-'.length));
      await cached(res, mapSha, `${t.variant}-${imageSha.slice(0, 24)}`, async () => {
        const [image, map] = (await Promise.all([readFile(files.path(imageSha)), readFile(files.path(mapSha))])).map(
          movable,
        );
        return asBuffer(await deps.images.run('gradCamOverlay', { image, map, opacity }, [image.buffer, map.buffer]));
      });
    } catch (e) {
      next(e);
    }
  });

  router.get('/files/segmentations/:id/:variant', async (req, res, next) => {
    try {
      const t = verified(req, res, 'segmentation');
      if (!t) return;
      const em = deps.db.orm.em.fork();
      const s = await em.findOne(Segmentation, t.id);
      if (!s) return refuse(res, 404, 'Not found');
      if (t.variant === 'mask') return sendPng(res, await readFile(files.path(s.maskSha256)));
      if (t.variant === 'probability') return sendPng(res, await readFile(files.path(s.probabilitySha256)));
      if (!OVERLAY.test(t.variant)) return refuse(res, 404, 'Not found');
      const opacity = Number(t.variant.slice('overlay-'.length));
      if (opacity === DEFAULT_OPACITY) return sendPng(res, await readFile(files.path(s.overlaySha256)));
      await cached(res, s.maskSha256, `${t.variant}-${s.id.replace(/-/g, '').slice(0, 24)}`, async () => {
        const img = await em.findOneOrFail(Image, s.imageId);
        const [image, mask] = (
          await Promise.all([readFile(files.path(img.sha256)), readFile(files.path(s.maskSha256))])
        ).map(movable);
        return asBuffer(await deps.images.run('maskOverlay', { image, mask, opacity }, [image.buffer, mask.buffer]));
      });
    } catch (e) {
      next(e);
    }
  });
  return router;
}
