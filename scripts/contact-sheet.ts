/**
 * The segmenters' contact sheet for their model cards: 24 varied real images, each as the image and
 * the default ensemble's lesion mask over it (the server's overlay: red tint, green outline), captioned
 * with the id, the diagnosis, the area and whether the mask touches the border or a scope's surround
 * was found. Varied = the hand-checked golden cases, then benign and malignant images spread evenly
 * over the range of mean brightness (the darkest to the brightest), so the sheet is not cherry-picked.
 *
 * Usage: node dist/scripts/contact-sheet.js [--out docs/segmentation-contact-sheet.jpg]
 */
import path from 'node:path';
import sharp from 'sharp';
import { maskArea } from '../src/inference/mask-metrics';
import { segmentationOverlayPng } from '../src/inference/render';
import { readLabels, type LabelRow } from './dataset';
import { ISIC_IMAGES, ROOT, loadShippedSegmenters } from './shipped-segmentation';

/** The hand-checked cases of src/inference/lesion-mask.golden.test.ts. */
const GOLDEN = ['ISIC_0000290', 'ISIC_0000170', 'ISIC_0000274', 'ISIC_0000286', 'ISIC_0000245', 'ISIC_0000310'];
const COUNT = 24;
const TILE = 200;
const CAPTION = 34;
const PAIRS_PER_ROW = 3;

/** Pure: `n` items spread evenly over a sorted list (first and last included). */
export function spreadEvenly<T>(sorted: readonly T[], n: number): T[] {
  if (n <= 0 || sorted.length === 0) return [];
  if (n === 1) return [sorted[Math.floor((sorted.length - 1) / 2)]];
  return Array.from({ length: n }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (n - 1))]);
}

async function meanBrightness(id: string): Promise<number> {
  const { channels } = await sharp(path.join(ISIC_IMAGES, `${id}.jpg`)).stats();
  return (channels[0].mean + channels[1].mean + channels[2].mean) / 3;
}

async function pickCases(): Promise<LabelRow[]> {
  const all = await readLabels(path.join(ROOT, 'datasets/isic-uda1'));
  const golden = GOLDEN.map((id) => all.find((c) => c.id === id)!);
  const rest = all.filter((c) => !GOLDEN.includes(c.id));
  const bright = new Map(await Promise.all(rest.map(async (c) => [c.id, await meanBrightness(c.id)] as const)));
  const byBrightness = (label: string) =>
    rest.filter((c) => c.label === label).sort((a, b) => bright.get(a.id)! - bright.get(b.id)!);
  const each = (COUNT - golden.length) / 2;
  return [...golden, ...spreadEvenly(byBrightness('benign'), each), ...spreadEvenly(byBrightness('malignant'), each)];
}

const escapeXml = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);

function caption(lines: string[], width: number): Buffer {
  const text = lines
    .map(
      (l, i) =>
        `<text x="6" y="${14 + i * 15}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#fff">${escapeXml(l)}</text>`,
    )
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${CAPTION}">${text}</svg>`);
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--out');
  const out = i >= 0 ? process.argv[i + 1] : path.join(ROOT, 'docs/segmentation-contact-sheet.jpg');
  const cases = await pickCases();
  const segmenters = await loadShippedSegmenters();
  const tiles: sharp.OverlayOptions[] = [];
  for (const [n, c] of cases.entries()) {
    const { image, result } = await segmenters.segment(path.join(ISIC_IMAGES, `${c.id}.jpg`));
    const area = (100 * maskArea(result.mask)) / result.mask.length;
    const flags = [result.touchesBorder ? 'touches border' : '', result.field.detected ? 'scope surround' : '']
      .filter(Boolean)
      .join(', ');
    const raw = { width: image.width, height: image.height, channels: 3 as const };
    const photo = await sharp(Buffer.from(image.data), { raw }).resize(TILE, TILE).png().toBuffer();
    const overlay = await sharp(await segmentationOverlayPng(image, result.mask, 0.35))
      .resize(TILE, TILE)
      .toBuffer();
    const [left, top] = [(n % PAIRS_PER_ROW) * 2 * TILE, Math.floor(n / PAIRS_PER_ROW) * (TILE + CAPTION)];
    tiles.push({ input: photo, left, top }, { input: overlay, left: left + TILE, top });
    const text = [
      `${c.id} ${c.label}${GOLDEN.includes(c.id) ? ' (golden case)' : ''}`,
      `area ${area.toFixed(1)} %${flags ? `; ${flags}` : ''}`,
    ];
    tiles.push({ input: caption(text, 2 * TILE), left, top: top + TILE });
  }
  await segmenters.release();
  const rows = Math.ceil(cases.length / PAIRS_PER_ROW);
  await sharp({
    create: { width: PAIRS_PER_ROW * 2 * TILE, height: rows * (TILE + CAPTION), channels: 3, background: '#222' },
  })
    .composite(tiles)
    .jpeg({ quality: 82 })
    .toFile(out);
  console.log(`wrote ${out}: ${cases.map((c) => c.id).join(', ')}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
