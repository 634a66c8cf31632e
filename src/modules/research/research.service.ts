import { createHmac, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../infra/errors';
import { decodeBoundCursor, encodeBoundCursor, pageSize, queryTag, type Page } from '../../infra/pagination';
import type { Severity } from '../../entities/segmentation';
import { SecretBox } from '../accounts';
import { storedAbstention, type PredictionFlag } from '../jobs';
import {
  ResearchRepository,
  type MetricsDbRow,
  type MetricsFilterInput,
  type ModelVersionDbRow,
} from './research.repository';

export type { MetricsFilterInput } from './research.repository';

/** One segmentation as a researcher sees it: hashed ids, no names. */
export interface MetricsRow {
  id: string;
  subject: string;
  image: string;
  createdAt: Date;
  modelVersions: string[];
  metrics: {
    areaPercent: number;
    areaPixels: number;
    perimeterPixels: number;
    circularity: number;
    allPiecesCircularity: number;
    componentCount: number | null;
    meanIntensity: number;
    stdIntensity: number;
    dice: number | null;
    jaccard: number | null;
  };
  severity: Severity;
  label: string | null;
  confidence: number | null;
  malignant: boolean | null;
  /** Whether that prediction abstained; null without a prediction or on one stored before the checks. */
  abstained: boolean | null;
  /** Its flags (Prediction.flags): [NOT_ASSESSED] on a prediction stored before the checks, empty without one. */
  flags: PredictionFlag[];
}

/** The abstention of the image's latest prediction as Prediction reads it; nothing when the image has none. */
const abstentionOf = (r: MetricsDbRow) =>
  r.label === null
    ? { abstained: null, flags: [] as PredictionFlag[] }
    : storedAbstention({ abstained: r.abstained, flags: r.flags });

export type MetricsPage = Page<MetricsRow> & { exportId: string };

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Refuses a filter that cannot mean anything (before any statement runs). */
export function checkFilter(f: MetricsFilterInput | null | undefined): void {
  if (f?.version && !f.model) throw badInput('filter.version', 'version needs model');
  if (f?.since && f?.until && f.since > f.until) throw badInput('filter.since', 'since must be before until');
}

/**
 * Research queries over segmentation metrics and predictions. Rows are de-identified: no names,
 * no real ids; patient, image and segmentation ids are replaced by HMACs keyed by an export id
 * (random per export, carried inside the encrypted cursor), so ids are stable across the pages
 * of one export and cannot be joined across exports.
 */
export class ResearchService {
  private readonly box: SecretBox;
  private readonly repo = new ResearchRepository();

  constructor(secret: string) {
    this.box = new SecretBox(`lesion-metrics:${secret}`);
  }

  /**
   * 132 bits of the HMAC in base64url, except that a leading `-` is written `~` (not in the base64url
   * alphabet, so no two ids meet): the CSV export quotes a cell starting with `-` (a formula start to
   * spreadsheets), and its ids must be lesionMetrics' ids. Not hex: a spreadsheet reads a rare
   * all-digit (or `123e45`) hex id as a number and rounds it.
   */
  private hash(exportId: string, kind: string, id: string | null): string {
    if (!id) return '';
    return createHmac('sha256', exportId).update(`${kind}:${id}`).digest('base64url').slice(0, 22).replace(/^-/, '~');
  }

  /**
   * The export's cursor is the API's one keyset cursor (infra/pagination, bound to its query: here
   * the export and its filter) sealed in a SecretBox together with the export id. Sealed, unlike
   * every other cursor, because the export id is the HMAC key of the pseudonymous ids: a client
   * that could read it could hash real ids itself and re-identify rows, so it travels only
   * encrypted, and a cursor cannot be forged to pick another export's key.
   */
  private tag(exportId: string, f: MetricsFilterInput | null | undefined): string {
    return queryTag([
      'lesionMetrics',
      exportId,
      f?.model ?? null,
      f?.version ?? null,
      f?.since ?? null,
      f?.until ?? null,
      f?.severity ?? null,
      f?.label ?? null,
    ]);
  }

  private sealCursor(exportId: string, f: MetricsFilterInput | null | undefined, createdAt: Date, id: string) {
    return this.box.encrypt(
      JSON.stringify([exportId, encodeBoundCursor(this.tag(exportId, f), createdAt, id)]),
      'lesionMetrics',
    );
  }

  private openCursor(after: string, f: MetricsFilterInput | null | undefined) {
    let exportId: unknown;
    let inner: unknown;
    try {
      if (after.length > 400) throw new Error('too long');
      [exportId, inner] = JSON.parse(this.box.decrypt(after, 'lesionMetrics')) as unknown[];
    } catch {
      throw badInput('after', 'Invalid cursor');
    }
    if (typeof exportId !== 'string' || typeof inner !== 'string') throw badInput('after', 'Invalid cursor');
    return { exportId, ...decodeBoundCursor(this.tag(exportId, f), inner) };
  }

  async lesionMetrics(
    em: EntityManager,
    filter: MetricsFilterInput | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<MetricsPage> {
    const n = pageSize(first, 500);
    const cursor = after ? this.openCursor(after, filter) : null;
    checkFilter(filter);
    const exportId = cursor?.exportId ?? randomBytes(16).toString('base64url');
    const rows = await this.repo.metricsPage(em, filter, cursor, n + 1);
    const edges = rows.slice(0, n).map((r) => {
      const createdAt = new Date(r.created_at);
      return { cursor: this.sealCursor(exportId, filter, createdAt, r.id), node: this.deIdentified(exportId, r) };
    });
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > n,
        hasPreviousPage: cursor !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      totalCount: () => this.repo.countSegmentations(em, filter),
      exportId: this.hash(exportId, 'export', 'id'),
    };
  }

  /** The public name of an export (lesionMetrics' `exportId`): a hash, so it reveals nothing of the key. */
  exportName(exportId: string): string {
    return this.hash(exportId, 'export', 'id');
  }

  /**
   * Every row matching `filter`, newest first, de-identified under `exportId` exactly as lesionMetrics'
   * pages of that export are, read in keyset pages of `pageSize` as the consumer pulls (a slow reader
   * holds one page, never the whole result). Pages are separate statements, not one snapshot: a
   * segmentation made during the export is newer than the first page and so is not in it.
   */
  async *exportRows(
    em: EntityManager,
    filter: MetricsFilterInput | null | undefined,
    exportId: string,
    pageSize = 1000,
  ): AsyncGenerator<MetricsRow> {
    checkFilter(filter);
    let after: { createdAt: Date; id: string } | null = null;
    while (true) {
      const rows = await this.repo.metricsPage(em, filter, after, pageSize);
      for (const r of rows) yield this.deIdentified(exportId, r);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { createdAt: new Date(last.created_at), id: last.id };
    }
  }

  private deIdentified(exportId: string, r: MetricsDbRow): MetricsRow {
    return {
      id: this.hash(exportId, 'segmentation', r.id),
      subject: this.hash(exportId, 'patient', r.patient_id),
      image: this.hash(exportId, 'image', r.image_id),
      createdAt: new Date(r.created_at),
      modelVersions: r.members.map((m) => `${m.model}@${m.version}`),
      metrics: {
        areaPercent: Number(r.area_percent),
        areaPixels: Number(r.area_pixels),
        perimeterPixels: Number(r.perimeter_pixels),
        circularity: Number(r.circularity),
        allPiecesCircularity: Number(r.all_pieces_circularity),
        componentCount: r.component_count,
        meanIntensity: Number(r.mean_intensity),
        stdIntensity: Number(r.std_intensity),
        dice: r.dice === null ? null : Number(r.dice),
        jaccard: r.jaccard === null ? null : Number(r.jaccard),
      },
      severity: r.severity,
      label: r.label ?? null,
      confidence: num(r.confidence),
      malignant: r.malignant ?? null,
      ...abstentionOf(r),
    };
  }

  /** Counts per severity and label; area and circularity per model version. */
  async summary(em: EntityManager, filter: MetricsFilterInput | null | undefined) {
    checkFilter(filter);
    const { total, bySeverity } = await this.repo.segmentationCounts(em, filter);
    const byLabel = await this.repo.labelCounts(em, filter);
    const rows = await this.repo.byModelVersion(em, filter);
    return {
      segmentations: total,
      predictions: byLabel.reduce((s, r) => s + r.count, 0),
      bySeverity,
      byLabel,
      byModelVersion: rows.map((r) => ({
        modelVersion: r.model_version,
        ensemble: r.ensemble,
        count: r.count,
        areaPercent: distribution(r, 'a'),
        circularity: distribution(r, 'c'),
      })),
    };
  }
}

/** mean and percentiles of one measure (`a_*` area, `c_*` circularity) from a per-version row. */
function distribution(r: ModelVersionDbRow, prefix: 'a' | 'c') {
  return {
    mean: num(r[`${prefix}_mean`]),
    p25: num(r[`${prefix}_p25`]),
    p50: num(r[`${prefix}_p50`]),
    p75: num(r[`${prefix}_p75`]),
    p95: num(r[`${prefix}_p95`]),
  };
}
