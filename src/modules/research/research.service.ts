import { createHmac, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../infra/errors';
import { SecretBox } from '../accounts';
import { pageSize } from '../../infra/pagination';
import type { Severity } from '../../entities/segmentation';

/**
 * Research queries over segmentation metrics and predictions. Rows are de-identified: no names,
 * no real ids; patient, image and segmentation ids are replaced by HMACs keyed by an export id
 * (random per export, carried inside the encrypted cursor), so ids are stable across the pages
 * of one export and cannot be joined across exports.
 */
export interface MetricsFilterInput {
  model?: string | null;
  version?: string | null;
  from?: Date | null;
  to?: Date | null;
  severity?: Severity | null;
  label?: string | null;
}

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
    meanIntensity: number;
    stdIntensity: number;
    dice: number | null;
    jaccard: number | null;
  };
  severity: Severity;
  label: string | null;
  confidence: number | null;
  malignant: boolean | null;
}

/** SQL where-clause (on segmentations `s` and latest prediction `p`) for a filter. */
export function filterSql(f: MetricsFilterInput | null | undefined): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f?.version && !f.model) throw new AppError('BAD_USER_INPUT', 'version needs model', { field: 'filter.version' });
  if (f?.model) {
    parts.push('s.members @> ?::jsonb');
    params.push(JSON.stringify([f.version ? { model: f.model, version: f.version } : { model: f.model }]));
  }
  if (f?.from) {
    parts.push('s.created_at >= ?');
    params.push(f.from);
  }
  if (f?.to) {
    parts.push('s.created_at < ?');
    params.push(f.to);
  }
  if (f?.from && f?.to && f.from > f.to)
    throw new AppError('BAD_USER_INPUT', 'from must be before to', { field: 'filter.from' });
  if (f?.severity) {
    parts.push('s.severity = ?');
    params.push(f.severity);
  }
  if (f?.label) {
    parts.push('p.label = ?');
    params.push(f.label);
  }
  return { sql: parts.length ? parts.join(' and ') : 'true', params };
}

const LATEST_PREDICTION = `left join lateral (select label, confidence, malignant from predictions p where p.image_id = s.image_id order by p.created_at desc limit 1) p on true`;

export class ResearchQueries {
  private readonly box: SecretBox;
  constructor(secret: string) {
    this.box = new SecretBox(`lesion-metrics:${secret}`);
  }

  private hash(exportId: string, kind: string, id: string | null): string {
    if (!id) return '';
    return createHmac('sha256', exportId).update(`${kind}:${id}`).digest('base64url').slice(0, 22);
  }

  private readCursor(after: string): { exportId: string; createdAt: string; id: string } {
    try {
      if (after.length > 400) throw new Error('too long');
      const [exportId, createdAt, id] = JSON.parse(this.box.decrypt(after, 'lesionMetrics')) as [
        string,
        string,
        string,
      ];
      if (typeof exportId !== 'string' || Number.isNaN(Date.parse(createdAt)) || typeof id !== 'string')
        throw new Error('bad');
      return { exportId, createdAt, id };
    } catch {
      throw new AppError('BAD_USER_INPUT', 'Invalid cursor', { field: 'after' });
    }
  }

  async lesionMetrics(
    em: EntityManager,
    filter: MetricsFilterInput | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
  ) {
    const n = pageSize(first, 500);
    const cursor = after ? this.readCursor(after) : null;
    const exportId = cursor?.exportId ?? randomBytes(16).toString('base64url');
    const where = filterSql(filter);
    const params = [...where.params];
    let keyset = '';
    if (cursor) {
      keyset = 'and (s.created_at < ? or (s.created_at = ? and s.id < ?))';
      params.push(cursor.createdAt, cursor.createdAt, cursor.id);
    }
    params.push(n + 1);
    const rows = (await em.getConnection().execute(
      `select s.id, s.image_id, s.patient_id, s.created_at, s.members, s.area_percent, s.area_pixels, s.perimeter_pixels, s.circularity,
              s.mean_intensity, s.std_intensity, s.dice, s.jaccard, s.severity, p.label, p.confidence, p.malignant
         from segmentations s ${LATEST_PREDICTION}
        where ${where.sql} ${keyset}
        order by s.created_at desc, s.id desc
        limit ?`,
      params,
    )) as Array<Record<string, unknown>>;
    const page = rows.slice(0, n);
    const edges = page.map((r) => {
      const createdAt = new Date(r.created_at as string);
      const node: MetricsRow = {
        id: this.hash(exportId, 'segmentation', r.id as string),
        subject: this.hash(exportId, 'patient', r.patient_id as string | null),
        image: this.hash(exportId, 'image', r.image_id as string),
        createdAt,
        modelVersions: (r.members as Array<{ model: string; version: string }>).map((m) => `${m.model}@${m.version}`),
        metrics: {
          areaPercent: Number(r.area_percent),
          areaPixels: Number(r.area_pixels),
          perimeterPixels: Number(r.perimeter_pixels),
          circularity: Number(r.circularity),
          meanIntensity: Number(r.mean_intensity),
          stdIntensity: Number(r.std_intensity),
          dice: r.dice === null ? null : Number(r.dice),
          jaccard: r.jaccard === null ? null : Number(r.jaccard),
        },
        severity: r.severity as Severity,
        label: (r.label as string | null) ?? null,
        confidence: r.confidence === null || r.confidence === undefined ? null : Number(r.confidence),
        malignant: (r.malignant as boolean | null) ?? null,
      };
      return {
        cursor: this.box.encrypt(JSON.stringify([exportId, createdAt.toISOString(), r.id]), 'lesionMetrics'),
        node,
      };
    });
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > n, endCursor: edges.at(-1)?.cursor ?? null },
      exportId: this.hash(exportId, 'export', 'id'),
    };
  }

  async summary(em: EntityManager, filter: MetricsFilterInput | null | undefined) {
    const where = filterSql(filter);
    const conn = em.getConnection();
    const from = `from segmentations s ${LATEST_PREDICTION} where ${where.sql}`;
    const [totals] = (await conn.execute(
      `select count(*)::int as n from (select s.id ${from}) x`,
      where.params,
    )) as Array<{ n: number }>;
    const bySeverity = (await conn.execute(
      `select s.severity, count(*)::int as count ${from} group by s.severity order by s.severity`,
      where.params,
    )) as Array<{ severity: Severity; count: number }>;
    // Labels count predictions (the same date/label filter; model/severity filters apply to segmentations only).
    const pParts: string[] = [];
    const pParams: unknown[] = [];
    if (filter?.from) (pParts.push('created_at >= ?'), pParams.push(filter.from));
    if (filter?.to) (pParts.push('created_at < ?'), pParams.push(filter.to));
    if (filter?.label) (pParts.push('label = ?'), pParams.push(filter.label));
    if (filter?.model)
      (pParts.push('members @> ?::jsonb'),
        pParams.push(
          JSON.stringify([filter.version ? { model: filter.model, version: filter.version } : { model: filter.model }]),
        ));
    const pWhere = pParts.length ? pParts.join(' and ') : 'true';
    const byLabel = (await conn.execute(
      `select label, count(*)::int as count from predictions where ${pWhere} group by label order by label`,
      pParams,
    )) as Array<{ label: string; count: number }>;
    const predictions = byLabel.reduce((s, r) => s + r.count, 0);
    const rows = (await conn.execute(
      `select model_version, count(*)::int as count,
              avg(area_percent) as a_mean, percentile_cont(0.25) within group (order by area_percent) as a_p25,
              percentile_cont(0.5) within group (order by area_percent) as a_p50, percentile_cont(0.75) within group (order by area_percent) as a_p75,
              percentile_cont(0.95) within group (order by area_percent) as a_p95,
              avg(circularity) as c_mean, percentile_cont(0.25) within group (order by circularity) as c_p25,
              percentile_cont(0.5) within group (order by circularity) as c_p50, percentile_cont(0.75) within group (order by circularity) as c_p75,
              percentile_cont(0.95) within group (order by circularity) as c_p95
         from (select (m->>'model') || '@' || (m->>'version') as model_version, s.area_percent, s.circularity
                 from segmentations s cross join lateral jsonb_array_elements(s.members) m ${LATEST_PREDICTION}
                where ${where.sql}) x
        group by model_version order by model_version`,
      where.params,
    )) as Array<Record<string, unknown>>;
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      segmentations: totals?.n ?? 0,
      predictions,
      bySeverity,
      byLabel,
      byModelVersion: rows.map((r) => ({
        modelVersion: r.model_version as string,
        count: r.count as number,
        areaPercent: {
          mean: num(r.a_mean),
          p25: num(r.a_p25),
          p50: num(r.a_p50),
          p75: num(r.a_p75),
          p95: num(r.a_p95),
        },
        circularity: {
          mean: num(r.c_mean),
          p25: num(r.c_p25),
          p50: num(r.c_p50),
          p75: num(r.c_p75),
          p95: num(r.c_p95),
        },
      })),
    };
  }
}
