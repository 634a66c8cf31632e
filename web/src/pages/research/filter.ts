// The research filter as the URL holds it (?label=&model=&version=&severity=&since=&until=) and as the API takes it
// (MetricsFilter). Dates are days in the browser's time zone: "from" is that day's start, "before" is exclusive.
import type { MetricsFilter, Severity } from '../../gql/graphql';

export const FILTER_KEYS = ['label', 'model', 'version', 'severity', 'since', 'until'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type FilterDraft = Record<FilterKey, string>;

export const SEVERITIES: Severity[] = ['LOW', 'MODERATE', 'HIGH'];

export function draftFrom(params: URLSearchParams): FilterDraft {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) ?? ''])) as FilterDraft;
}

export function paramsFrom(draft: FilterDraft): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) if (draft[k].trim()) p.set(k, draft[k].trim());
  return p;
}

/** A YYYY-MM-DD day as the instant it starts, local time; undefined when empty or not a day. */
export function dayStart(day: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const d = new Date(`${day}T00:00:00`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function metricsFilter(draft: FilterDraft): MetricsFilter {
  const f: MetricsFilter = {};
  if (draft.label.trim()) f.label = draft.label.trim();
  if (draft.model.trim()) f.model = draft.model.trim();
  if (draft.version.trim()) f.version = draft.version.trim();
  if (SEVERITIES.includes(draft.severity as Severity)) f.severity = draft.severity as Severity;
  const since = dayStart(draft.since);
  const until = dayStart(draft.until);
  if (since) f.since = since;
  if (until) f.until = until;
  return f;
}
