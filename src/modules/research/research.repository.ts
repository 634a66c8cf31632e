import type { EntityManager } from '@mikro-orm/postgresql';
import type { Severity } from '../../entities/segmentation';

/** What the research queries filter on (validated by the service). */
export interface MetricsFilterInput {
  model?: string | null;
  version?: string | null;
  since?: Date | null;
  until?: Date | null;
  severity?: Severity | null;
  label?: string | null;
}

/** A segmentation row with its image's latest prediction, as the export reads it (real ids: never sent as they are). */
export interface MetricsDbRow {
  id: string;
  image_id: string;
  patient_id: string | null;
  created_at: string | Date;
  members: Array<{ model: string; version: string }>;
  area_percent: unknown;
  area_pixels: unknown;
  perimeter_pixels: unknown;
  circularity: unknown;
  all_pieces_circularity: unknown;
  component_count: number | null;
  mean_intensity: unknown;
  std_intensity: unknown;
  dice: unknown;
  jaccard: unknown;
  severity: Severity;
  label: string | null;
  confidence: unknown;
  malignant: boolean | null;
  /** The prediction's abstention (null on predictions stored before the checks, and without a prediction). */
  abstained: boolean | null;
  flags: string[] | null;
}

/** Area and circularity statistics of one model version's segmentations (numbers as PostgreSQL returns them). */
export type ModelVersionDbRow = Record<string, unknown> & { model_version: string; ensemble: boolean; count: number };

/** A member filter as jsonb containment: the model, at the version when one is given. */
const memberSql = (f: MetricsFilterInput) =>
  JSON.stringify([f.version ? { model: f.model, version: f.version } : { model: f.model }]);

/** Conditions joined with `and` (`true` when there are none), each with its parameter. */
function conditions(): { add(sql: string, param: unknown): void; where(): { sql: string; params: unknown[] } } {
  const parts: string[] = [];
  const params: unknown[] = [];
  return {
    add(sql, param) {
      parts.push(sql);
      params.push(param);
    },
    where: () => ({ sql: parts.length ? parts.join(' and ') : 'true', params }),
  };
}

/** SQL where-clause (on segmentations `s` and latest prediction `p`) for a filter. */
export function filterSql(f: MetricsFilterInput | null | undefined): { sql: string; params: unknown[] } {
  const c = conditions();
  if (f?.model) c.add('s.members @> ?::jsonb', memberSql(f));
  if (f?.since) c.add('s.created_at >= ?', f.since);
  if (f?.until) c.add('s.created_at < ?', f.until);
  if (f?.severity) c.add('s.severity = ?', f.severity);
  if (f?.label) c.add('p.label = ?', f.label);
  return c.where();
}

/** Where-clause on `predictions` for the label counts: the date, label and model filters (severity is a segmentation's). */
function predictionFilterSql(f: MetricsFilterInput | null | undefined): { sql: string; params: unknown[] } {
  const c = conditions();
  if (f?.since) c.add('created_at >= ?', f.since);
  if (f?.until) c.add('created_at < ?', f.until);
  if (f?.label) c.add('label = ?', f.label);
  if (f?.model) c.add('members @> ?::jsonb', memberSql(f));
  return c.where();
}

const LATEST_PREDICTION = `left join lateral (select label, confidence, malignant, abstained, flags from predictions p where p.image_id = s.image_id order by p.created_at desc limit 1) p on true`;

/** The research statements over segmentations and predictions (read-only; raw SQL for the lateral joins and percentiles). */
export class ResearchRepository {
  /** Up to `limit` segmentations matching `filter`, newest first, strictly after `after` (keyset). */
  async metricsPage(
    em: EntityManager,
    filter: MetricsFilterInput | null | undefined,
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<MetricsDbRow[]> {
    const where = filterSql(filter);
    const params = [...where.params];
    let keyset = '';
    if (after) {
      keyset = 'and (s.created_at < ? or (s.created_at = ? and s.id < ?))';
      params.push(after.createdAt, after.createdAt, after.id);
    }
    params.push(limit);
    return (await em.getConnection().execute(
      `select s.id, s.image_id, s.patient_id, s.created_at, s.members, s.area_percent, s.area_pixels, s.perimeter_pixels, s.circularity,
              s.all_pieces_circularity, s.component_count, s.mean_intensity, s.std_intensity, s.dice, s.jaccard, s.severity, p.label, p.confidence, p.malignant,
              p.abstained, p.flags
         from segmentations s ${LATEST_PREDICTION}
        where ${where.sql} ${keyset}
        order by s.created_at desc, s.id desc
        limit ?`,
      params,
    )) as MetricsDbRow[];
  }

  /** How many segmentations `metricsPage` pages over (the filter, no cursor). */
  async countSegmentations(em: EntityManager, filter: MetricsFilterInput | null | undefined): Promise<number> {
    const where = filterSql(filter);
    const rows = (await em
      .getConnection()
      .execute(
        `select count(*)::int as n from segmentations s ${LATEST_PREDICTION} where ${where.sql}`,
        where.params,
      )) as Array<{ n: number }>;
    return rows[0]?.n ?? 0;
  }

  /** Segmentations matching `filter`, in all and per severity. */
  async segmentationCounts(
    em: EntityManager,
    filter: MetricsFilterInput | null | undefined,
  ): Promise<{ total: number; bySeverity: Array<{ severity: Severity; count: number }> }> {
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
    return { total: totals?.n ?? 0, bySeverity };
  }

  /** Predictions per label (the date, label and model filters apply). */
  async labelCounts(
    em: EntityManager,
    filter: MetricsFilterInput | null | undefined,
  ): Promise<Array<{ label: string; count: number }>> {
    const where = predictionFilterSql(filter);
    return (await em
      .getConnection()
      .execute(
        `select label, count(*)::int as count from predictions where ${where.sql} group by label order by label`,
        where.params,
      )) as Array<{ label: string; count: number }>;
  }

  /**
   * Area and circularity statistics per model version and per ensemble. A member's row holds its own
   * figures (the `output` each member of a segmentation keeps); a single-model segmentation's are its
   * model's; an ensemble's row (`ensemble` true, named by its members and weights) holds the ensemble's
   * figures. Ensembles stored before members kept their outputs count for the ensemble only.
   */
  async byModelVersion(em: EntityManager, filter: MetricsFilterInput | null | undefined): Promise<ModelVersionDbRow[]> {
    const where = filterSql(filter);
    const stats = (v: string, p: string) =>
      [
        `avg(${v}) as ${p}_mean`,
        ...[25, 50, 75, 95].map((q) => `percentile_cont(${q / 100}) within group (order by ${v}) as ${p}_p${q}`),
      ].join(', ');
    const ensembleName = `(select string_agg((e->>'model') || '@' || (e->>'version') || ' (w ' || to_char((e->>'weight')::float8, 'FM0.00') || ')', ' + ' order by o)
                             from jsonb_array_elements(s.members) with ordinality as x(e, o))`;
    return (await em.getConnection().execute(
      `select model_version, ensemble, count(*)::int as count, ${stats('area_percent', 'a')}, ${stats('circularity', 'c')}
         from (select (m->>'model') || '@' || (m->>'version') as model_version, false as ensemble,
                      coalesce((m->'output'->>'areaPercent')::float8, s.area_percent) as area_percent,
                      coalesce((m->'output'->>'circularity')::float8, s.circularity) as circularity
                 from segmentations s cross join lateral jsonb_array_elements(s.members) m ${LATEST_PREDICTION}
                where ${where.sql} and (m->'output' is not null or jsonb_array_length(s.members) = 1)
               union all
               select ${ensembleName}, true, s.area_percent, s.circularity
                 from segmentations s ${LATEST_PREDICTION}
                where ${where.sql} and jsonb_array_length(s.members) > 1) x
        group by model_version, ensemble order by ensemble, model_version`,
      [...where.params, ...where.params],
    )) as ModelVersionDbRow[];
  }
}
