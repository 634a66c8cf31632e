import type { Writable } from 'node:stream';
import sharp from '../../../inference/sharp';
import type { ImageReportData, ImageReportOptions, ReportModelRef } from './types';
import {
  type Area,
  FONT,
  contentBottom,
  fullArea,
  STYLE,
  contentWidth,
  ensureSpace,
  fieldGrid,
  imagePanel,
  noteBox,
  paragraph,
  registerFonts,
  sectionHeading,
  table,
} from './layout';

export const REPORT_DISCLAIMER_LEAD = 'Decision support only — not a diagnosis.';

export const REPORT_DISCLAIMER =
  'The classification, segmentation metrics and severity grade are produced ' +
  'by machine-learning models and may be wrong. They must be interpreted by a qualified clinician together with the ' +
  'clinical history and examination; they do not replace dermoscopic review or histopathology.';

const PAPER_SIZE = { A4: 'A4', LETTER: 'LETTER' } as const;

/** Pictures are downscaled to this many pixels on the long side before embedding (keeps a report small). */
const MAX_PIXELS = 1200;

type Picture = { data: Buffer; width: number; height: number };

/** Decodes any sharp-readable image, applies EXIF orientation, and re-encodes it as PNG or JPEG for pdfkit. */
async function picture(src: Buffer | string, format: 'png' | 'jpeg'): Promise<Picture> {
  const pipeline = sharp(src)
    .rotate()
    .resize({ width: MAX_PIXELS, height: MAX_PIXELS, fit: 'inside', withoutEnlargement: true });
  const { data, info } = await (format === 'png' ? pipeline.png() : pipeline.jpeg({ quality: 88 })).toBuffer({
    resolveWithObject: true,
  });
  return { data, width: info.width, height: info.height };
}

const utc = (d: Date) =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
const pct = (p: number) => `${(p * 100).toFixed(1)} %`;
const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}

function modelRows(models: ReportModelRef[], result: string): { cells: string[] }[] {
  return models.map((m) => ({ cells: [result, m.role ? `${m.name} (${m.role})` : m.name, m.version, m.device] }));
}

/** The severity rule in words, with the thresholds the grade was computed with. */
export function severityRuleText(t: {
  smallAreaPercent: number;
  largeAreaPercent: number;
  highCircularity: number;
  lowCircularity: number;
}): string {
  return (
    `Severity rule: HIGH when the lesion covers ${t.largeAreaPercent} % of the image or more, or its circularity is below ` +
    `${t.lowCircularity}; LOW when it covers less than ${t.smallAreaPercent} % and its circularity is ${t.highCircularity} ` +
    `or more; MODERATE otherwise. An empty mask (nothing segmented) is LOW. Circularity is 4πA/P² (1 = perfect disc).`
  );
}

/**
 * Renders the per-image PDF report into `out` (A4 or Letter, DejaVu Sans embedded). Resolves once the whole
 * document has been written and `out` has finished.
 */
export async function renderImageReport(
  data: ImageReportData,
  out: Writable,
  options: ImageReportOptions,
): Promise<void> {
  const [original, segOverlay, camOverlay] = await Promise.all([
    picture(data.image.source, 'jpeg'),
    data.segmentation?.overlay ? picture(data.segmentation.overlay, 'png') : null,
    data.gradcam ? picture(data.gradcam.overlay, 'png') : null,
  ]);

  // Loaded with the first report: pdfkit and its fonts' parser were an eighth of the server's start.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: PAPER_SIZE[options.paper],
    margins: { top: 48, bottom: 40, left: 48, right: 48 },
    bufferPages: true,
    info: {
      Title: `Lesion image report — ${data.patient.externalId}`,
      Author: options.serviceName,
      Subject: `Image ${data.image.id}`,
      CreationDate: options.generatedAt,
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    doc.on('error', reject);
  });
  doc.pipe(out);
  registerFonts(doc);

  header(doc, data, options);
  subject(doc, data);
  pictures(doc, data, original, segOverlay, camOverlay);
  results(doc, data);
  models(doc, data);
  noteBox(doc, REPORT_DISCLAIMER_LEAD, REPORT_DISCLAIMER);
  footers(doc, options);

  doc.end();
  await finished;
}

function header(doc: PDFKit.PDFDocument, data: ImageReportData, options: ImageReportOptions): void {
  const x = doc.page.margins.left;
  const w = contentWidth(doc);
  doc
    .font(FONT.bold)
    .fontSize(17)
    .fillColor(STYLE.accent)
    .text(options.serviceName, x, doc.y, { width: w * 0.62 });
  const afterName = doc.y;
  doc
    .font(FONT.regular)
    .fontSize(STYLE.small)
    .fillColor(STYLE.muted)
    .text(`Generated ${utc(options.generatedAt)}`, x + w * 0.62, doc.page.margins.top + 4, {
      width: w * 0.38,
      align: 'right',
    });
  doc.y = Math.max(afterName, doc.y);
  doc.font(FONT.regular).fontSize(11).fillColor(STYLE.text).text('Skin lesion image report', x, doc.y, { width: w });
  doc
    .font(FONT.regular)
    .fontSize(STYLE.small)
    .fillColor(STYLE.muted)
    .text(`Image ${data.image.id}`, x, doc.y, { width: w });
  doc.fillColor(STYLE.text);
}

function subject(doc: PDFKit.PDFDocument, data: ImageReportData): void {
  const { patient, lesion, image } = data;
  sectionHeading(doc, 'Patient and lesion');
  const dims = image.width && image.height ? `, ${image.width} × ${image.height} px` : '';
  fieldGrid(doc, [
    ['Patient name', patient.name],
    ['External ID', patient.externalId],
    ['Date of birth', patient.dateOfBirth ?? 'Not recorded'],
    ['Sex', patient.sex ?? 'Not recorded'],
    ['Lesion body site', lesion ? (lesion.bodySite ?? 'Body site not recorded') : 'No lesion recorded for this image'],
    ['Lesion', lesion?.label ?? (lesion ? '—' : 'None')],
    ['Image file', image.fileName],
    ['Image size', `${formatBytes(image.bytes)}${dims}`],
    ['Taken / uploaded', `${image.takenAt ? utc(image.takenAt) : 'Not recorded'} / ${utc(image.uploadedAt)}`],
  ]);
}

function pictures(doc: PDFKit.PDFDocument, data: ImageReportData, ...imgs: (Picture | null)[]): void {
  sectionHeading(doc, 'Images');
  const gap = 10;
  const w = (contentWidth(doc) - 2 * gap) / 3;
  const h = Math.min(w, 132);
  ensureSpace(doc, h + 20);
  const y = doc.y + 2;
  const captions = ['Original image', 'Segmentation overlay', 'Grad-CAM overlay'];
  const missing = [
    'Original image unavailable',
    data.segmentation ? 'No overlay stored for this segmentation' : 'No segmentation for this image',
    data.prediction ? 'No Grad-CAM computed for this image' : 'No classification for this image',
  ];
  imgs.forEach((img, i) =>
    imagePanel(doc, img, { x: doc.page.margins.left + i * (w + gap), y, w, h }, captions[i], missing[i]),
  );
  doc.y = y + h + 18;
  doc.x = doc.page.margins.left;
}

/**
 * Classification and segmentation side by side when both fit on the current page (the usual case), else one
 * under the other so long class lists can run onto the next page.
 */
function results(doc: PDFKit.PDFDocument, data: ImageReportData): void {
  const gap = 16;
  const half = (contentWidth(doc) - gap) / 2;
  const left = { x: doc.page.margins.left, w: half };
  const right = { x: doc.page.margins.left + half + gap, w: half };
  const classRows = data.prediction?.probabilities.length ?? 2;
  const estimate = Math.max(70 + 17 * (classRows + 1), 110 + 17 * 6);
  if (doc.y + estimate > contentBottom(doc)) {
    classification(doc, data, fullArea(doc));
    segmentation(doc, data, fullArea(doc));
    return;
  }
  const top = doc.y;
  classification(doc, data, left);
  const leftEnd = doc.y;
  doc.y = top;
  segmentation(doc, data, right);
  doc.y = Math.max(leftEnd, doc.y);
  doc.x = doc.page.margins.left;
}

function classification(doc: PDFKit.PDFDocument, data: ImageReportData, area: Area): void {
  sectionHeading(doc, 'Classification', area);
  const p = data.prediction;
  if (!p) {
    paragraph(
      doc,
      'No classification (prediction) is available for this image: it has not been classified yet, or classification failed.',
      { area },
    );
    return;
  }
  if (p.indeterminate?.length) indeterminate(doc, p.label, p.confidence, p.indeterminate, area);
  else
    doc
      .font(FONT.bold)
      .fontSize(10.5)
      .text(`Predicted class: ${p.label} — confidence ${pct(p.confidence)}`, area.x, doc.y, { width: area.w });
  doc.moveDown(0.3);
  const sorted = [...p.probabilities].sort((a, b) => b.probability - a.probability);
  table(
    doc,
    [
      { header: 'Class', width: 0.6 },
      { header: 'Probability', width: 0.4, align: 'right' },
    ],
    sorted.map((c) => ({ cells: [c.label, pct(c.probability)], bold: c.label === p.label })),
    area,
  );
}

/** An abstained result: "Indeterminate" and the reasons in words; the model's label (its leaning) only for reference. */
function indeterminate(
  doc: PDFKit.PDFDocument,
  label: string,
  confidence: number,
  reasons: string[],
  area: Area,
): void {
  doc
    .font(FONT.bold)
    .fontSize(10.5)
    .fillColor(STYLE.warning)
    .text('Result: Indeterminate', area.x, doc.y, { width: area.w });
  const because = reasons.map((r, i) => (i ? r : r[0].toUpperCase() + r.slice(1))).join('; ');
  paragraph(doc, `${because}.`, { area });
  paragraph(doc, `For reference only, the model's leaning: ${label} (${pct(confidence)}).`, {
    area,
    color: STYLE.muted,
  });
}

function segmentation(doc: PDFKit.PDFDocument, data: ImageReportData, area: Area): void {
  sectionHeading(doc, 'Segmentation and severity', area);
  const s = data.segmentation;
  if (!s) {
    paragraph(
      doc,
      'No segmentation is available for this image: it has not been segmented yet, or segmentation failed. No metrics or severity grade can be given.',
      { area },
    );
    return;
  }
  table(
    doc,
    [
      { header: 'Measure', width: 0.68 },
      { header: 'Value', width: 0.32, align: 'right' },
    ],
    [
      { cells: ['Lesion area (% of image)', `${num(s.areaPercent, 2)} %`] },
      { cells: ['Circularity (4πA/P², 0–1)', num(s.circularity, 3)] },
      { cells: ['Mean intensity (0–255)', num(s.meanIntensity, 1)] },
      { cells: ['Intensity standard deviation', num(s.stdIntensity, 1)] },
      { cells: ['Severity', s.severity], bold: true },
    ],
    area,
  );
  doc.moveDown(0.4);
  paragraph(doc, severityRuleText(s.thresholds), { color: STYLE.muted, size: STYLE.small, area });
}

function models(doc: PDFKit.PDFDocument, data: ImageReportData): void {
  sectionHeading(doc, 'Models behind these results');
  const rows = [
    ...modelRows(data.prediction?.models ?? [], 'Classification'),
    ...modelRows(data.segmentation?.models ?? [], 'Segmentation'),
    ...modelRows(data.gradcam?.models ?? [], 'Grad-CAM'),
  ];
  if (rows.length === 0) {
    paragraph(doc, 'No model results are recorded for this image.');
    return;
  }
  table(
    doc,
    [
      { header: 'Result', width: 0.2 },
      { header: 'Model', width: 0.42 },
      { header: 'Version', width: 0.2 },
      { header: 'Device', width: 0.18 },
    ],
    rows,
  );
}

/** "Page i of N" and the service name on every page (pages are buffered until the end). */
function footers(doc: PDFKit.PDFDocument, options: ImageReportOptions): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0; // writing into the margin must not add a page
    const fy = doc.page.height - bottom + 8;
    const x = doc.page.margins.left;
    const w = contentWidth(doc);
    doc.font(FONT.regular).fontSize(STYLE.small).fillColor(STYLE.muted);
    const name = options.serviceName.length > 60 ? `${options.serviceName.slice(0, 59)}…` : options.serviceName;
    doc.text(`${name} — decision support, not a diagnosis`, x, fy, { width: w * 0.7, lineBreak: false });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, x + w * 0.7, fy, {
      width: w * 0.3,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins.bottom = bottom;
  }
}
