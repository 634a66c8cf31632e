import { existsSync } from 'node:fs';
import path from 'node:path';

/** Text colours and sizes shared by the report's blocks. */
export const STYLE = {
  text: '#1a1a1a',
  muted: '#5f6368',
  rule: '#c7ccd1',
  headerFill: '#eef1f4',
  accent: '#1f4e79',
  /** An indeterminate (abstained) result. */
  warning: '#a04000',
  body: 9.5,
  small: 8,
  heading: 12,
} as const;

export const FONT = { regular: 'DejaVuSans', bold: 'DejaVuSans-Bold' } as const;

/** Walks up from this file to assets/fonts (src/ under Jest, dist/src/ when built). */
export function findFontsDir(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'assets', 'fonts');
    if (existsSync(path.join(candidate, 'DejaVuSans.ttf'))) return candidate;
    if (path.dirname(dir) === dir)
      throw new Error(`REPORT_FONTS_MISSING: no assets/fonts/DejaVuSans.ttf above ${start}`);
  }
}

export function registerFonts(doc: PDFKit.PDFDocument): void {
  const dir = findFontsDir();
  doc.registerFont(FONT.regular, path.join(dir, 'DejaVuSans.ttf'));
  doc.registerFont(FONT.bold, path.join(dir, 'DejaVuSans-Bold.ttf'));
  doc.font(FONT.regular);
}

export function contentWidth(doc: PDFKit.PDFDocument): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

/** Bottom of the writable area, leaving room for the page footer. */
export function contentBottom(doc: PDFKit.PDFDocument): number {
  return doc.page.height - doc.page.margins.bottom - 8;
}

/** Starts a new page when fewer than `height` points are left. */
export function ensureSpace(doc: PDFKit.PDFDocument, height: number): void {
  if (doc.y + height > contentBottom(doc)) doc.addPage();
}

/** A horizontal slice of the content area (a column); the whole width when omitted. */
export interface Area {
  x: number;
  w: number;
}

export function fullArea(doc: PDFKit.PDFDocument): Area {
  return { x: doc.page.margins.left, w: contentWidth(doc) };
}

export function sectionHeading(doc: PDFKit.PDFDocument, title: string, area = fullArea(doc)): void {
  ensureSpace(doc, 60);
  doc.y += 6;
  const { x, w } = area;
  doc.font(FONT.bold).fontSize(STYLE.heading).fillColor(STYLE.accent).text(title, x, doc.y, { width: w });
  const y = doc.y + 2;
  doc
    .moveTo(x, y)
    .lineTo(x + w, y)
    .lineWidth(0.6)
    .strokeColor(STYLE.rule)
    .stroke();
  doc.y = y + 5;
  doc.font(FONT.regular).fontSize(STYLE.body).fillColor(STYLE.text);
}

/** A plain paragraph across the content width (wraps long text). */
export function paragraph(
  doc: PDFKit.PDFDocument,
  text: string,
  opts: { color?: string; size?: number; area?: Area } = {},
): void {
  const { x, w } = opts.area ?? fullArea(doc);
  doc
    .font(FONT.regular)
    .fontSize(opts.size ?? STYLE.body)
    .fillColor(opts.color ?? STYLE.text);
  ensureSpace(doc, doc.heightOfString(text, { width: w }) + 2);
  doc.text(text, x, doc.y, { width: w });
  doc.fillColor(STYLE.text);
}

export interface Column {
  header: string;
  /** Fraction of the table width. */
  width: number;
  align?: 'left' | 'right';
}

/**
 * A table with a shaded header row; cells wrap, rows grow to the tallest cell, and the header repeats
 * when the table continues on the next page. `bold` rows are set in the bold face.
 */
export function table(
  doc: PDFKit.PDFDocument,
  columns: Column[],
  rows: { cells: string[]; bold?: boolean }[],
  area = fullArea(doc),
): void {
  const x0 = area.x;
  const total = area.w;
  const widths = columns.map((c) => c.width * total);
  const pad = 3;
  const measure = (cells: string[], font: string) => {
    doc.font(font).fontSize(STYLE.body);
    return Math.max(...cells.map((c, i) => doc.heightOfString(c, { width: widths[i] - 2 * pad }))) + 2 * pad;
  };
  const drawRow = (cells: string[], font: string, fill: string | null) => {
    const h = measure(cells, font);
    if (doc.y + h > contentBottom(doc)) {
      doc.addPage();
      if (fill === null)
        drawRow(
          columns.map((c) => c.header),
          FONT.bold,
          STYLE.headerFill,
        );
    }
    const y = doc.y;
    if (fill) doc.rect(x0, y, total, h).fill(fill);
    doc.font(font).fontSize(STYLE.body).fillColor(STYLE.text);
    let x = x0;
    cells.forEach((c, i) => {
      doc.text(c, x + pad, y + pad, { width: widths[i] - 2 * pad, align: columns[i].align ?? 'left' });
      x += widths[i];
    });
    doc
      .moveTo(x0, y + h)
      .lineTo(x0 + total, y + h)
      .lineWidth(0.4)
      .strokeColor(STYLE.rule)
      .stroke();
    doc.y = y + h;
  };
  const headers = columns.map((c) => c.header);
  // Keep the header with at least its first row.
  ensureSpace(doc, measure(headers, FONT.bold) + (rows[0] ? measure(rows[0].cells, FONT.regular) : 0));
  drawRow(headers, FONT.bold, STYLE.headerFill);
  for (const row of rows) drawRow(row.cells, row.bold ? FONT.bold : FONT.regular, null);
  doc.x = doc.page.margins.left;
  doc.font(FONT.regular);
}

/** Label/value pairs in `cols` columns (label muted above the value; values wrap). */
export function fieldGrid(doc: PDFKit.PDFDocument, fields: [string, string][], cols = 3): void {
  const x0 = doc.page.margins.left;
  const gap = 12;
  const w = (contentWidth(doc) - gap * (cols - 1)) / cols;
  for (let i = 0; i < fields.length; i += cols) {
    const row = fields.slice(i, i + cols);
    doc.fontSize(STYLE.body);
    const heights = row.map(([label, value]) => {
      doc.font(FONT.regular).fontSize(STYLE.small);
      const lh = doc.heightOfString(label, { width: w });
      doc.font(FONT.bold).fontSize(STYLE.body);
      return lh + doc.heightOfString(value, { width: w });
    });
    const h = Math.max(...heights) + 4;
    ensureSpace(doc, h);
    const y = doc.y;
    row.forEach(([label, value], j) => {
      const x = x0 + j * (w + gap);
      doc.font(FONT.regular).fontSize(STYLE.small).fillColor(STYLE.muted).text(label, x, y, { width: w });
      doc.font(FONT.bold).fontSize(STYLE.body).fillColor(STYLE.text).text(value, x, doc.y, { width: w });
    });
    doc.y = y + h;
  }
  doc.x = x0;
  doc.font(FONT.regular).fillColor(STYLE.text);
}

/**
 * One image panel: the picture fitted inside w x h with its aspect kept and centred, a thin frame,
 * and a caption below; a shaded box saying `missing` when there is no picture.
 */
export function imagePanel(
  doc: PDFKit.PDFDocument,
  img: { data: Buffer; width: number; height: number } | null,
  box: { x: number; y: number; w: number; h: number },
  caption: string,
  missing: string,
): void {
  const { x, y, w, h } = box;
  if (img) {
    const scale = Math.min(w / img.width, h / img.height);
    const iw = img.width * scale;
    const ih = img.height * scale;
    doc.image(img.data, x + (w - iw) / 2, y + (h - ih) / 2, { width: iw, height: ih });
  } else {
    doc.rect(x, y, w, h).fill('#f3f4f6');
    doc
      .font(FONT.regular)
      .fontSize(STYLE.small)
      .fillColor(STYLE.muted)
      .text(missing, x + 8, y + h / 2 - 10, { width: w - 16, align: 'center' });
  }
  doc.rect(x, y, w, h).lineWidth(0.5).strokeColor(STYLE.rule).stroke();
  doc
    .font(FONT.bold)
    .fontSize(STYLE.small)
    .fillColor(STYLE.text)
    .text(caption, x, y + h + 4, { width: w, align: 'center' });
  doc.font(FONT.regular).fillColor(STYLE.text);
}

/** A shaded, framed note kept whole on one page: a bold lead sentence, then the body. */
export function noteBox(doc: PDFKit.PDFDocument, lead: string, body: string): void {
  const { x, w } = fullArea(doc);
  const pad = 8;
  doc.font(FONT.bold).fontSize(STYLE.body);
  const lh = doc.heightOfString(lead, { width: w - 2 * pad });
  doc.font(FONT.regular).fontSize(STYLE.body);
  const bh = doc.heightOfString(body, { width: w - 2 * pad });
  const h = lh + bh + 2 * pad + 2;
  doc.y += 12;
  ensureSpace(doc, h);
  const y = doc.y;
  doc.rect(x, y, w, h).fillAndStroke('#fff8e6', '#e0b84f');
  doc
    .font(FONT.bold)
    .fontSize(STYLE.body)
    .fillColor(STYLE.text)
    .text(lead, x + pad, y + pad, { width: w - 2 * pad });
  doc.font(FONT.regular).text(body, x + pad, doc.y + 2, { width: w - 2 * pad });
  doc.y = y + h;
  doc.x = x;
}
