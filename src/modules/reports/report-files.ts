import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReportKind } from '../../entities';
import { badInput } from '../../infra/errors';
import { clinicalCsv } from './csv/csv-export';
import { renderImageReport } from './pdf/image-report';
import type { ImageReportOptions } from './pdf/types';
import { pdfData, csvRow, type PdfSources, type ReportImage } from './report-sources';
import { zipStream, type ZipSourceEntry } from './zip/zip-stream';
import { patientEntryName } from './zip/entry-names';

/** What rendering needs besides the images: files, overlay renderer, thresholds, page options. */
export interface RenderContext extends PdfSources {
  pdf: Omit<ImageReportOptions, 'generatedAt'>;
  generatedAt: Date;
  /** Called once an image is in the file (0-based index): progress, and the place to stop (throw). */
  onImage(index: number, imageId: string): Promise<void>;
}

/** The file name a report is offered under. */
export function reportFileName(kind: ReportKind, at: Date, first?: { externalId: string; imageId: string }): string {
  const day = at.toISOString().slice(0, 10);
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  switch (kind) {
    case ReportKind.PDF:
      return first ? `report-${safe(first.externalId)}-${first.imageId.slice(0, 8)}-${day}.pdf` : `report-${day}.pdf`;
    case ReportKind.CSV:
      return `results-${day}.csv`;
    case ReportKind.PDFS_ZIP:
      return `reports-${day}.zip`;
    case ReportKind.MASKS_ZIP:
      return `masks-${day}.zip`;
  }
}

/** A PDF into memory (one image's report is a few hundred kB), for a ZIP entry. */
async function pdfBuffer(ctx: RenderContext, image: ReportImage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await renderImageReport(await pdfData(ctx, image), sink, { ...ctx.pdf, generatedAt: ctx.generatedAt });
  return Buffer.concat(chunks);
}

/** `images` counted: onImage after each one is taken (the ZIP and CSV writers pull them as they write). */
async function* counted(images: AsyncIterable<ReportImage>, ctx: RenderContext): AsyncGenerator<ReportImage> {
  let index = 0;
  for await (const image of images) {
    yield image;
    await ctx.onImage(index++, image.image.id);
  }
}

/**
 * Writes the report of `kind` over `images` to `out`, streaming: ZIPs and CSVs hold one image at a
 * time. On failure `out` is destroyed with the error, so whatever consumes it (the file store's
 * staging) drops the partial file.
 */
export async function renderReport(
  kind: ReportKind,
  images: AsyncIterable<ReportImage>,
  out: Writable,
  ctx: RenderContext,
): Promise<void> {
  try {
    switch (kind) {
      case ReportKind.PDF: {
        // One image per PDF (PDFS_ZIP packs several); the request was checked to name exactly one.
        for await (const image of images) {
          await renderImageReport(await pdfData(ctx, image), out, { ...ctx.pdf, generatedAt: ctx.generatedAt });
          await ctx.onImage(0, image.image.id);
          return;
        }
        throw badInput('imageIds', 'The image of this report no longer exists');
      }
      case ReportKind.CSV: {
        const rows = (async function* () {
          for await (const image of counted(images, ctx)) yield csvRow(image);
        })();
        await pipeline(clinicalCsv(rows), out);
        return;
      }
      case ReportKind.PDFS_ZIP:
      case ReportKind.MASKS_ZIP: {
        const entries = (async function* (): AsyncGenerator<ZipSourceEntry> {
          for await (const image of counted(images, ctx)) {
            const ext = image.image.patient.externalId;
            if (kind === ReportKind.PDFS_ZIP)
              yield { name: patientEntryName(ext, image.image.id, 'report.pdf'), source: await pdfBuffer(ctx, image) };
            else if (image.segmentation)
              yield {
                name: patientEntryName(ext, image.image.id, 'mask.png'),
                source: ctx.files.path(image.segmentation.maskSha256),
                date: image.segmentation.createdAt,
              };
          }
        })();
        await zipStream(entries, out, { date: ctx.generatedAt });
        return;
      }
    }
  } catch (e) {
    out.destroy(e as Error);
    throw e;
  }
}
