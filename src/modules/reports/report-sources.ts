import { readFile } from 'node:fs/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Image, Prediction, Segmentation, type MemberRecord } from '../../entities';
import type { FileStore } from '../../infra/storage/file-store';
import type { SeverityThresholds } from '../../inference/severity';
import { flagReasons } from '../../inference/abstain';
import {
  camMapBytes,
  gradCamOverlayKey,
  opacityVariant,
  renderGradCamOverlay,
  storedAbstention,
  type JobsModule,
} from '../jobs';
import type { ImageReportData, ReportModelRef } from './pdf/types';
import type { ImageRow } from './csv/types';

/** One image of a report with everything a report shows about it, read in one batch. */
export interface ReportImage {
  image: Image;
  prediction: Prediction | null;
  segmentation: Segmentation | null;
}

/** Images read per batch: a 5 000-image report holds one batch of rows at a time. */
export const SOURCE_BATCH = 100;

const latestByImage = <T extends { imageId: string; createdAt: Date }>(rows: T[]): Map<string, T> => {
  const latest = new Map<string, T>();
  for (const r of rows) {
    const seen = latest.get(r.imageId);
    if (!seen || r.createdAt > seen.createdAt) latest.set(r.imageId, r);
  }
  return latest;
};

/**
 * The report's images in order, a batch at a time: each image with its patient and lesion, and its
 * latest prediction and segmentation (either may be missing; the report says so). An image
 * deleted since the report was asked for is skipped.
 */
export async function* reportImages(em: EntityManager, imageIds: readonly string[]): AsyncGenerator<ReportImage> {
  for (let i = 0; i < imageIds.length; i += SOURCE_BATCH) {
    const ids = imageIds.slice(i, i + SOURCE_BATCH);
    const fork = em.fork();
    const [images, predictions, segmentations] = await Promise.all([
      fork.find(Image, { id: { $in: ids } }, { populate: ['patient', 'lesion'] }),
      fork.find(Prediction, { imageId: { $in: ids } }, { populate: ['gradCamMap'] }),
      fork.find(Segmentation, { imageId: { $in: ids } }),
    ]);
    const byId = new Map(images.map((img) => [img.id, img]));
    const p = latestByImage(predictions);
    const s = latestByImage(segmentations);
    for (const id of ids) {
      const image = byId.get(id);
      if (image) yield { image, prediction: p.get(id) ?? null, segmentation: s.get(id) ?? null };
    }
  }
}

const modelRefs = (members: readonly MemberRecord[]): ReportModelRef[] =>
  members.map((m) => ({
    name: m.model,
    version: m.version,
    device: m.device,
    role: members.length > 1 ? `weight ${m.weight.toFixed(2)}` : undefined,
  }));

/** The CSV row of one image. */
export function csvRow({ image, prediction, segmentation }: ReportImage): ImageRow {
  return {
    patient: { externalId: image.patient.externalId, name: image.patient.displayName },
    lesion: image.lesion ? { id: image.lesion.id, bodySite: image.lesion.bodySite } : null,
    image: { id: image.id, fileName: image.originalName ?? null, takenAt: null, uploadedAt: image.createdAt },
    prediction: prediction && {
      label: prediction.label,
      confidence: prediction.confidence,
      probabilities: prediction.probabilities,
      models: prediction.members.map((m) => ({ name: m.model, version: m.version, device: m.device })),
      createdAt: prediction.createdAt,
      ...storedAbstention(prediction),
    },
    segmentation: segmentation && {
      metrics: {
        areaPercent: segmentation.areaPercent,
        areaPixels: segmentation.areaPixels,
        perimeterPixels: segmentation.perimeterPixels,
        circularity: segmentation.circularity,
        meanIntensity: segmentation.meanIntensity,
        stdIntensity: segmentation.stdIntensity,
      },
      severity: segmentation.severity,
      models: segmentation.members.map((m) => ({ name: m.model, version: m.version, device: m.device })),
      createdAt: segmentation.createdAt,
    },
  };
}

/** What the PDF of one image needs beyond the rows: the files and the overlay renderer. */
export interface PdfSources {
  files: FileStore;
  images: JobsModule['images'];
  severity: SeverityThresholds;
}

const GRADCAM_OPACITY = 0.5;

/** The Grad-CAM overlay as the result URLs serve it (the same cached file when one was made). */
async function gradCamOverlay(
  src: PdfSources,
  imageSha: string,
  mapSha: string,
  mapInRow: Buffer | null | undefined,
): Promise<Buffer> {
  const variant = gradCamOverlayKey(opacityVariant(GRADCAM_OPACITY), imageSha);
  const hit = await src.files.cachedPath(mapSha, variant);
  if (hit) return readFile(hit);
  const mapBytes = camMapBytes(src.files, mapSha, mapInRow);
  const made = await renderGradCamOverlay(src.files, src.images, imageSha, mapBytes, GRADCAM_OPACITY);
  await src.files.putCached(mapSha, variant, made);
  return made;
}

/** The PDF report's data of one image. */
export async function pdfData(
  src: PdfSources,
  { image, prediction, segmentation }: ReportImage,
): Promise<ImageReportData> {
  const camModel = prediction?.gradCamModel?.split('@');
  return {
    patient: {
      name: image.patient.displayName,
      externalId: image.patient.externalId,
      dateOfBirth: image.patient.dateOfBirth ?? null,
      sex: image.patient.sex ? image.patient.sex.toLowerCase() : null,
    },
    lesion: image.lesion ? { bodySite: image.lesion.bodySite, label: image.lesion.label } : null,
    image: {
      id: image.id,
      fileName: image.originalName ?? `${image.id}.${image.format.toLowerCase()}`,
      bytes: image.byteSize,
      width: image.width,
      height: image.height,
      takenAt: null,
      uploadedAt: image.createdAt,
      source: src.files.path(image.sha256),
    },
    prediction: prediction && {
      label: prediction.label,
      confidence: prediction.confidence,
      probabilities: prediction.probabilities,
      models: modelRefs(prediction.members),
      indeterminate: prediction.abstained ? flagReasons(prediction.flags ?? []) : [],
    },
    segmentation: segmentation && {
      areaPercent: segmentation.areaPercent,
      circularity: segmentation.circularity,
      meanIntensity: segmentation.meanIntensity,
      stdIntensity: segmentation.stdIntensity,
      severity: segmentation.severity,
      thresholds: src.severity,
      models: modelRefs(segmentation.members),
      overlay: await readFile(src.files.path(segmentation.overlaySha256)).catch(() => null),
    },
    gradcam:
      prediction?.gradCamMapSha256 && camModel
        ? {
            overlay: await gradCamOverlay(src, image.sha256, prediction.gradCamMapSha256, prediction.gradCamMap),
            models: [
              {
                name: camModel[0],
                version: camModel[1] ?? '',
                device: prediction.members.find((m) => m.model === camModel[0])?.device ?? 'cpu',
                role: prediction.gradCamMethod === 'score-cam' ? 'Score-CAM' : 'Grad-CAM',
              },
            ],
          }
        : null,
  };
}
