import { Readable } from 'node:stream';
import { cellText, csvLine, type Cell } from './cells';
import type { CsvModelRef, ImageMetrics, ImageRow, MetricsRow } from './types';

/**
 * Streaming CSV exports. Rows are pulled from the source only as the reader consumes the output
 * (`Readable.from` over an async generator), so a million-row export holds a few rows at a time.
 */

const BOM = '\ufeff';

export const METRIC_COLUMNS: readonly (keyof ImageMetrics)[] = [
  'areaPercent',
  'areaPixels',
  'perimeterPixels',
  'circularity',
  'meanIntensity',
  'stdIntensity',
];
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface ClinicalCsvOptions {
  /**
   * The class labels, one `p_<label>` column each, in this order. Default: the labels of the first
   * row that has a prediction (looking ahead at most `lookahead` rows). Probabilities of labels not
   * in the header go to `other_probabilities` as `label=p` pairs, so nothing is dropped.
   */
  labels?: readonly string[];
  /** Rows read ahead to find labels when `labels` is not given (default 1000). */
  lookahead?: number;
  /** Start with a UTF-8 byte order mark so Excel reads the file as UTF-8 (default true). */
  bom?: boolean;
}

export const CLINICAL_LEADING_COLUMNS = [
  'patient_external_id',
  'patient_name',
  'lesion_id',
  'lesion_body_site',
  'image_id',
  'image_file_name',
  'taken_at',
  'uploaded_at',
  'predicted_at',
  'label',
  'confidence',
  'abstained',
  'flags',
] as const;

export const CLINICAL_TRAILING_COLUMNS = [
  'other_probabilities',
  ...METRIC_COLUMNS.map(snake),
  'severity',
  'segmented_at',
  'classification_models',
  'segmentation_models',
] as const;

const models = (list: readonly CsvModelRef[] | undefined) =>
  (list ?? []).map((m) => `${m.name}@${m.version}${m.device ? ` (${m.device})` : ''}`).join('; ');

function clinicalCells(r: ImageRow, labels: readonly string[]): string[] {
  const p = r.prediction;
  const probs = new Map((p?.probabilities ?? []).map((x) => [x.label, x.probability]));
  const known = new Set(labels);
  const other = (p?.probabilities ?? []).filter((x) => !known.has(x.label)).map((x) => `${x.label}=${x.probability}`);
  const s = r.segmentation;
  const cells: Cell[] = [
    r.patient.externalId,
    r.patient.name,
    r.lesion?.id,
    r.lesion?.bodySite,
    r.image.id,
    r.image.fileName,
    r.image.takenAt,
    r.image.uploadedAt,
    p?.createdAt,
    p?.label,
    p?.confidence,
    // Beside the label, so a row never shows a bare label for an indeterminate result.
    p?.abstained,
    p?.flags?.join('; '),
    ...labels.map((l) => probs.get(l)),
    other.join('; '),
    ...METRIC_COLUMNS.map((k) => s?.metrics[k]),
    s?.severity,
    s?.createdAt,
    models(p?.models),
    models(s?.models),
  ];
  return cells.map(cellText);
}

async function* iterate<T>(rows: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  yield* rows;
}

/**
 * The clinician's CSV: one row per image with the patient's external id and name, lesion, image,
 * timestamps (ISO 8601, UTC), label and confidence, one column per class probability, every
 * segmentation metric, severity, and the models (`name@version (device)`) behind each number.
 * An image without a prediction or segmentation has those cells empty.
 */
export function clinicalCsv(
  rows: AsyncIterable<ImageRow> | Iterable<ImageRow>,
  opts: ClinicalCsvOptions = {},
): Readable {
  async function* lines(): AsyncGenerator<string> {
    const it = iterate(rows);
    const ahead: ImageRow[] = [];
    let labels = opts.labels;
    if (!labels) {
      const max = opts.lookahead ?? 1000;
      while (ahead.length < max) {
        const next = await it.next();
        if (next.done) break;
        ahead.push(next.value);
        if (next.value.prediction) break;
      }
      labels = ahead.find((r) => r.prediction)?.prediction?.probabilities.map((x) => x.label) ?? [];
    }
    const header = [...CLINICAL_LEADING_COLUMNS, ...labels.map((l) => `p_${l}`), ...CLINICAL_TRAILING_COLUMNS];
    yield ((opts.bom ?? true) ? BOM : '') + csvLine(header.map(cellText));
    for (const r of ahead) yield csvLine(clinicalCells(r, labels));
    ahead.length = 0;
    for await (const r of it) yield csvLine(clinicalCells(r, labels));
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
}

export const RESEARCH_COLUMNS = [
  'id',
  'subject',
  'image',
  'created_at',
  ...METRIC_COLUMNS.map(snake),
  'dice',
  'jaccard',
  'severity',
  'label',
  'confidence',
  'malignant',
  'abstained',
  'flags',
  'model_versions',
] as const;

function researchCells(r: MetricsRow): string[] {
  const m = r.metrics;
  const cells: Cell[] = [
    r.id,
    r.subject,
    r.image,
    r.createdAt,
    ...METRIC_COLUMNS.map((k) => m[k]),
    m.dice,
    m.jaccard,
    r.severity,
    r.label,
    r.confidence,
    r.malignant,
    // Beside the call, as in the clinical CSV: an abstaining row's label is not to be read as a call.
    r.abstained,
    r.flags?.join('; '),
    r.modelVersions.join('; '),
  ];
  return cells.map(cellText);
}

/**
 * The researcher's CSV of de-identified lesion metrics: the rows carry only hashed ids (see the
 * research module), no names, no external ids, no file names. Streamed row by row, uncapped.
 */
export function researchCsv(rows: AsyncIterable<MetricsRow> | Iterable<MetricsRow>): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield csvLine(RESEARCH_COLUMNS.map(cellText));
    for await (const r of rows) yield csvLine(researchCells(r));
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
}
