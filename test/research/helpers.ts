import { parse } from 'csv-parse/sync';
import type { GqlResult, TestServer } from '../support/server';

export const EXPORT = `mutation($f: MetricsFilter) { exportLesionMetricsCsv(filter: $f) { url expiresAt } }`;

/** A signed URL minted for PUBLIC_URL, pointed at the test server's real port. */
export const local = (server: TestServer, url: string) =>
  url.replace('http://127.0.0.1:4000', new URL(server.url).origin);

/** exportLesionMetricsCsv as `token`; throws on any error. */
export async function exportUrl(server: TestServer, token: string, filter?: Record<string, unknown>): Promise<string> {
  const res = await server.gql<any>(EXPORT, { f: filter ?? null }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return local(server, res.data.exportLesionMetricsCsv.url);
}

export interface Fetched {
  status: number;
  headers: Headers;
  text: string;
}

export async function fetchText(url: string, init?: RequestInit): Promise<Fetched> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The CSV's records keyed by column. */
export const records = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[];

/** Every lesionMetrics row matching `filter`, read page by page (one export). */
export async function allLesionMetrics(
  server: TestServer,
  token: string,
  filter?: Record<string, unknown>,
): Promise<any[]> {
  const q = `query($f: MetricsFilter, $after: String) { lesionMetrics(filter: $f, first: 500, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id subject image createdAt modelVersions severity label confidence malignant abstained flags
      metrics { areaPercent areaPixels perimeterPixels circularity meanIntensity stdIntensity dice jaccard } } } } }`;
  const out: any[] = [];
  let after: string | null = null;
  for (;;) {
    const res: GqlResult<any> = await server.gql<any>(q, { f: filter ?? null, after }, token);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const page: { edges: any[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = res.data.lesionMetrics;
    out.push(...page.edges.map((e: any) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}
