/** One image of a segmentation job: segmented (the full-resolution part on an image thread) and its PNGs stored. */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { readFile } from 'node:fs/promises';
import { Image } from '../../../entities/image';
import type { SeverityThresholds } from '../../../inference/severity';
import type { FileStore } from '../../../infra/storage/file-store';
import type { ImageRef, JobRequest } from '../job-request';
import { PermanentJobError } from '../queue/queue';
import { withMemberOutputs } from './image-tasks';
import { asBuffer, type ImageWork } from './image-threads';
import type { MemberRun } from './members';
import { segmentImage, type StageReport } from './pipeline';

export interface SegmentStoreDeps {
  orm: MikroORM;
  files: FileStore;
  severity: SeverityThresholds;
  images: ImageWork;
}

export async function segmentAndStore(
  deps: SegmentStoreDeps,
  source: Buffer,
  runs: MemberRun[],
  req: JobRequest,
  image: ImageRef,
  report: StageReport,
) {
  const truth = await groundTruth(deps, deps.orm.em.fork(), req.truth?.[image.id]);
  const r = await segmentImage(
    source,
    runs,
    { threshold: req.threshold ?? 0.5, severity: deps.severity, truth, images: deps.images },
    report,
  );
  const put = (png: Uint8Array) => deps.files.putBuffer(asBuffer(png));
  const [maskFile, probFile, overlayFile, ...memberFiles] = await Promise.all([
    put(r.maskPng),
    put(r.probabilityPng),
    put(r.overlayPng),
    ...r.memberOutputs.map((m) => put(m.maskPng)),
  ]);
  const members = withMemberOutputs(
    r.members,
    r.memberOutputs,
    memberFiles.map((f) => f.sha256),
  );
  return { r, members, maskFile, probFile, overlayFile };
}

/** The ground-truth mask image's bytes (decoded at the image size by the pipeline), or null. */
async function groundTruth(
  deps: SegmentStoreDeps,
  em: EntityManager,
  maskImageId: string | undefined,
): Promise<Buffer | null> {
  if (!maskImageId) return null;
  const mask = await em.findOne(Image, maskImageId, { fields: ['sha256'] });
  if (!mask) throw new PermanentJobError(`ground-truth image ${maskImageId} no longer exists`, 'NOT_FOUND');
  return readFile(deps.files.path(mask.sha256));
}
