import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { fixtureReportData } from './fixture';
import { REPORT_DISCLAIMER, renderImageReport } from './image-report';
import type { ImageReportData, ImageReportOptions } from './types';
import { flagReasons } from '../../../inference/abstain';

const dir = mkdtempSync(path.join(tmpdir(), 'report-pdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options: ImageReportOptions = {
  paper: 'A4',
  serviceName: 'Dermagraph — Clinic North',
  generatedAt: new Date('2026-11-30T15:30:00Z'),
};

let n = 0;
async function render(data: ImageReportData, opts: Partial<ImageReportOptions> = {}): Promise<string> {
  const file = path.join(dir, `report-${++n}.pdf`);
  await renderImageReport(data, createWriteStream(file), { ...options, ...opts });
  return file;
}

/** pdftotext's layout-free text with whitespace runs collapsed (long values may wrap across lines). */
function text(file: string): string {
  return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

describe('renderImageReport', () => {
  let data: ImageReportData;
  let full: string;
  beforeAll(async () => {
    data = await fixtureReportData();
    full = await render(data);
    // `WRITE_REPORT_EXAMPLE=docs/report-example.png npx jest src/modules/reports/pdf` refreshes the docs picture.
    const example = process.env.WRITE_REPORT_EXAMPLE;
    if (example) {
      execFileSync('pdftoppm', [
        '-png',
        '-r',
        '110',
        '-f',
        '1',
        '-l',
        '1',
        '-singlefile',
        full,
        path.join(dir, 'example'),
      ]);
      copyFileSync(path.join(dir, 'example.png'), example);
    }
  });

  it('prints the patient, lesion, numbers, model versions, disclaimer and page numbers', () => {
    const t = text(full);
    expect(t.startsWith('Dermagraph — Clinic North') || t.includes('Dermagraph — Clinic North')).toBe(true);
    expect(t).toContain('Generated 2026-11-30 15:30:00 UTC');
    for (const s of [
      'Ana María Fernández', // the name wraps at its hyphen, which pdftotext joins
      'Oliveira',
      'MRN-2024-00817',
      '1961-04-23',
      'female',
      'Left upper back, 4 cm lateral to the spine',
      'img_01JD7Q3K8Y2M4V6X9ZB1C5N0RT',
      'Predicted class: melanoma — confidence 81.2 %',
      'melanoma 81.2 %',
      'nevus 13.4 %',
      'seborrheic_keratosis 5.3 %',
      '27.41 %',
      '0.812',
      '96.4',
      '31.7',
      'Severity HIGH',
      'HIGH when the lesion covers 20 % of the image or more, or its circularity is below 0.45',
      'LOW when it covers less than 5 % and its circularity is 0.75 or more',
      'isic-classifier',
      '2.3.1',
      'isic-unet',
      '1.4.0',
      'isic-segformer',
      '0.9.2',
      'cuda:0',
      'not a diagnosis',
      'Page 1 of',
    ])
      expect(t).toContain(s);
    expect(t).toContain(REPORT_DISCLAIMER.replace(/\s+/g, ' ').slice(0, 60));
  });

  it('says in words when there is no prediction, no segmentation and no lesion', async () => {
    const t = text(await render({ ...data, prediction: null, segmentation: null, gradcam: null, lesion: null }));
    expect(t).toContain('No classification (prediction) is available for this image');
    expect(t).toContain('No segmentation is available for this image');
    expect(t).toContain('No segmentation for this image');
    expect(t).toContain('No lesion recorded for this image');
    expect(t).toContain('No model results are recorded for this image');
    expect(t).toContain('Ana María Fernández');
    expect(t).toMatch(/Page 1 of 1/);
  });

  it('says "Indeterminate" with the reasons in words instead of a bare label when the prediction abstained', async () => {
    const reasons = flagReasons(['LOW_MARGIN', 'BLURRED']);
    const file = await render({ ...data, prediction: { ...data.prediction!, indeterminate: reasons } });
    const t = text(file);
    expect(t).toContain('Result: Indeterminate');
    expect(t).toContain(
      'The probability of malignancy is too close to the decision threshold to call; the image is blurred or featureless.',
    );
    expect(t).toContain("For reference only, the model's leaning: melanoma (81.2 %)");
    expect(t).not.toContain('Predicted class:');
    // The probabilities stay in the table (clinicians need them).
    expect(t).toContain('melanoma 81.2 %');
    // An empty list is a result that stands.
    expect(text(await render({ ...data, prediction: { ...data.prediction!, indeterminate: [] } }))).toContain(
      'Predicted class: melanoma — confidence 81.2 %',
    );
    // `WRITE_REPORT_INDETERMINATE=/tmp/x.png` writes page 1 to look at.
    const out = process.env.WRITE_REPORT_INDETERMINATE;
    if (out) {
      execFileSync('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'ind')]);
      copyFileSync(path.join(dir, 'ind.png'), out);
    }
  });

  it('renders a page 1 that is not blank', async () => {
    const prefix = path.join(dir, 'page');
    execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', '-singlefile', full, prefix]);
    const stats = await sharp(`${prefix}.png`).stats();
    const [r, g, b] = stats.channels;
    for (const c of [r, g, b]) expect(c.stdev).toBeGreaterThan(20);
    expect(r.min).toBeLessThan(80);
  });

  it('embeds the DejaVu fonts shipped in assets/fonts', () => {
    const out = execFileSync('pdffonts', [full], { encoding: 'utf8' });
    const rows = out.split('\n').filter((l) => /DejaVu/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row).toMatch(/\byes\s+yes\s+(yes|no)\s+\d+\s+\d+\s*$/); // emb sub uni
    expect(out).not.toMatch(/Helvetica|Times/);
  });

  it('sets A4 or Letter by option', async () => {
    const size = (file: string) =>
      execFileSync('pdfinfo', [file], { encoding: 'utf8' }).match(/Page size:\s+([\d.]+) x ([\d.]+) pts/)!;
    const a4 = size(full);
    expect([Math.round(+a4[1]), Math.round(+a4[2])]).toEqual([595, 842]);
    const letter = size(await render(data, { paper: 'LETTER' }));
    expect([Math.round(+letter[1]), Math.round(+letter[2])]).toEqual([612, 792]);
  });

  it('wraps very long names and free text instead of overflowing, across pages with consistent page numbers', async () => {
    const longName = `${'Maximiliana-Wilhelmina '.repeat(12)}Ostrowska-Kowalczyk`;
    const many = Array.from({ length: 60 }, (_, i) => ({
      label: `class_${i}_${'x'.repeat(i % 7)}`,
      probability: 0.01,
    }));
    const file = await render({
      ...data,
      patient: { ...data.patient, name: longName, externalId: 'EXT-' + 'Z'.repeat(120) },
      prediction: { ...data.prediction!, probabilities: many },
    });
    const raw = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    const t = raw.replace(/\s+/g, ' ');
    expect(t).toContain('Ostrowska-Kowalczyk');
    expect(t).toContain('class_59_');
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
    expect(pages).toBeGreaterThan(1);
    for (let p = 1; p <= pages; p++) expect(t).toContain(`Page ${p} of ${pages}`);
    // Nothing drawn outside the page: pdftotext -bbox gives every word's box.
    const bbox = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
    const xMax = [...bbox.matchAll(/xMax="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.max(...xMax)).toBeLessThanOrEqual(595 - 40);
  });

  it('reads the original image from a Buffer too', async () => {
    const t = text(
      await render({ ...data, image: { ...data.image, source: readFileSync(data.image.source as string) } }),
    );
    expect(t).toContain('Page 1 of');
  });
});
