import { statSync } from 'node:fs';
import path from 'node:path';
import sharp from '../../../inference/sharp';
import type { ImageReportData } from './types';

/** A real ISIC image from test/fixtures/images. */
export const FIXTURE_IMAGE = path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'test',
  'fixtures',
  'images',
  'ISIC_0000150.jpg',
);

/** A realistic report's data built from a real image, with sharp-made overlays (for tests and docs/report-example.png). */
export async function fixtureReportData(): Promise<ImageReportData> {
  const meta = await sharp(FIXTURE_IMAGE).metadata();
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  const rx = Math.round(w * 0.28);
  const ry = Math.round(h * 0.3);
  const maskSvg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><ellipse cx="${w / 2}" cy="${h / 2}" rx="${rx}" ry="${ry}" fill="rgba(0,200,80,0.35)" stroke="rgb(0,230,90)" stroke-width="3"/></svg>`,
  );
  const camSvg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><radialGradient id="g"><stop offset="0" stop-color="rgb(255,40,0)" stop-opacity="0.75"/><stop offset="0.5" stop-color="rgb(255,220,0)" stop-opacity="0.5"/><stop offset="1" stop-color="rgb(0,60,255)" stop-opacity="0.35"/></radialGradient></defs><rect width="${w}" height="${h}" fill="url(#g)"/></svg>`,
  );
  const overlay = (svg: Buffer) =>
    sharp(FIXTURE_IMAGE)
      .composite([{ input: svg }])
      .png()
      .toBuffer();
  return {
    patient: {
      name: 'Ana María Fernández-Oliveira',
      externalId: 'MRN-2024-00817',
      dateOfBirth: '1961-04-23',
      sex: 'female',
    },
    lesion: { bodySite: 'Left upper back, 4 cm lateral to the spine', label: 'Lesion A' },
    image: {
      id: 'img_01JD7Q3K8Y2M4V6X9ZB1C5N0RT',
      fileName: 'ISIC_0000150.jpg',
      bytes: statSync(FIXTURE_IMAGE).size,
      width: w,
      height: h,
      takenAt: new Date('2026-11-28T09:41:00Z'),
      uploadedAt: new Date('2026-11-28T10:02:17Z'),
      source: FIXTURE_IMAGE,
    },
    prediction: {
      label: 'melanoma',
      confidence: 0.8123,
      probabilities: [
        { label: 'nevus', probability: 0.1342 },
        { label: 'melanoma', probability: 0.8123 },
        { label: 'seborrheic_keratosis', probability: 0.0535 },
      ],
      models: [{ name: 'isic-classifier', version: '2.3.1', device: 'cpu' }],
    },
    segmentation: {
      areaPercent: 27.41,
      circularity: 0.812,
      meanIntensity: 96.4,
      stdIntensity: 31.7,
      severity: 'HIGH',
      thresholds: { smallAreaPercent: 5, largeAreaPercent: 20, highCircularity: 0.75, lowCircularity: 0.45 }, // the config's defaults
      models: [
        { name: 'isic-unet', version: '1.4.0', device: 'cuda:0', role: 'ensemble weight 2' },
        { name: 'isic-segformer', version: '0.9.2', device: 'cuda:0', role: 'ensemble weight 1' },
      ],
      overlay: await overlay(maskSvg),
    },
    gradcam: {
      overlay: await overlay(camSvg),
      models: [{ name: 'isic-classifier', version: '2.3.1', device: 'cpu', role: 'Grad-CAM, layer conv5' }],
    },
  };
}
