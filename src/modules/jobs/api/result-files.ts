import { readFile } from 'node:fs/promises';
import type { Config } from '../../../infra/config';
import { Image } from '../../../entities';
import { notFound } from '../../../infra/errors';
import type { FileStore } from '../../../infra/storage/file-store';
import type { SignedFile, SignedFileRoute } from '../../../infra/http/signed-files';
import { signedUrl, type SignedTarget } from '../../../infra/storage/signed-urls';
import { validateOpacity } from '../../../inference/render';
import { asBuffer, movable, type ImageWork } from '../runner/image-threads';
import type { Database } from '../../../infra/database/database';
import type { ResultRepository } from '../results.repository';
import { MEMBER_MASK } from './segmentation-members';
import { readCamMap } from '../cam-map-source';

/**
 * Signed URLs of inference results and the route that serves them. Grad-CAM URLs name the image and
 * the map by their sha256 (the map is kept in its prediction row, cam-map-source.ts), so the `gradcam`
 * progress event can hand them out; segmentation URLs name the segmentation. Overlays at any
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

/** A Grad-CAM overlay's cache key beside its map: the opacity's variant and the image it lays on. */
export const gradCamOverlayKey = (variant: string, imageSha: string) => `${variant}-${imageSha.slice(0, 24)}`;

/** A Grad-CAM overlay made on an image thread: the stored image under its map at `opacity`. */
export async function renderGradCamOverlay(
  files: FileStore,
  images: ImageWork,
  imageSha: string,
  mapBytes: Promise<Buffer>,
  opacity: number,
): Promise<Buffer> {
  const [image, map] = (await Promise.all([readFile(files.path(imageSha)), mapBytes])).map(movable);
  return asBuffer(await images.run('gradCamOverlay', { image, map, opacity }, [image.buffer, map.buffer]));
}

const SHA = /^[0-9a-f]{64}$/;
const OVERLAY = /^overlay-(0\.\d\d|1\.00)$/;

/**
 * The signed-file routes of results: `/files/gradcams/...` and `/files/segmentations/...`.
 * Renderings run on image threads (`images`): a 50-megapixel overlay is seconds of work.
 */
export function resultFileRoutes(deps: {
  db: Database;
  files: FileStore;
  images: ImageWork;
  results: ResultRepository;
}): SignedFileRoute[] {
  const { files } = deps;
  const png = (data: Buffer, etag: string): SignedFile => ({ data, type: 'image/png', etag });
  const stored = (sha: string, etag: string): SignedFile => ({ path: files.path(sha), type: 'image/png', etag });

  /** A derivative from the cache, or made, stored and sent. */
  const cached = async (
    sha: string,
    variant: string,
    etag: string,
    make: () => Promise<Buffer>,
  ): Promise<SignedFile> => {
    const hit = await files.cachedPath(sha, variant);
    if (hit) return { path: hit, type: 'image/png', etag };
    const made = await make();
    await files.putCached(sha, variant, made);
    return png(made, etag);
  };

  const gradCams: SignedFileRoute = {
    kind: 'gradcam',
    async serve({ id, variant }) {
      const [imageSha, mapSha, extra] = id.split('.');
      if (extra !== undefined || ![imageSha, mapSha].every((s) => SHA.test(s ?? ''))) throw notFound('File');
      const etag = `"${id}-${variant}"`;
      if (variant === 'heatmap') {
        return cached(mapSha, 'heatmap', etag, async () => {
          const map = movable(await readCamMap(deps.db.orm.em.fork(), files, mapSha));
          return asBuffer(await deps.images.run('gradCamHeatmap', { map }, [map.buffer]));
        });
      }
      if (!OVERLAY.test(variant)) throw notFound('File');
      const opacity = Number(variant.slice('overlay-'.length));
      return cached(mapSha, gradCamOverlayKey(variant, imageSha), etag, () =>
        renderGradCamOverlay(files, deps.images, imageSha, readCamMap(deps.db.orm.em.fork(), files, mapSha), opacity),
      );
    },
  };

  const segmentations: SignedFileRoute = {
    kind: 'segmentation',
    async serve({ id, variant }) {
      const em = deps.db.orm.em.fork();
      const s = await deps.results.segmentation(em, id);
      if (!s) throw notFound('Segmentation');
      const etag = `"${s.id}-${variant}"`;
      if (variant === 'mask') return stored(s.maskSha256, etag);
      if (variant === 'probability') return stored(s.probabilitySha256, etag);
      const member = MEMBER_MASK.exec(variant);
      if (member) {
        const sha = s.members[Number(member[1])]?.output?.maskSha256;
        if (!sha) throw notFound('File');
        return stored(sha, etag);
      }
      if (!OVERLAY.test(variant)) throw notFound('File');
      const opacity = Number(variant.slice('overlay-'.length));
      if (opacity === DEFAULT_OPACITY) return stored(s.overlaySha256, etag);
      return cached(s.maskSha256, `${variant}-${s.id.replace(/-/g, '').slice(0, 24)}`, etag, async () => {
        const img = await em.findOneOrFail(Image, s.imageId);
        const [image, mask] = (
          await Promise.all([readFile(files.path(img.sha256)), readFile(files.path(s.maskSha256))])
        ).map(movable);
        return asBuffer(await deps.images.run('maskOverlay', { image, mask, opacity }, [image.buffer, mask.buffer]));
      });
    },
  };

  return [gradCams, segmentations];
}
