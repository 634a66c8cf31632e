import { createHash } from 'node:crypto';
import { badInput } from './errors';

/** The page size a connection returns when `first` is not given, and the most it may ask for. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** `first` within 1..max (default 20). */
export function pageSize(first: number | null | undefined, max = MAX_PAGE, field = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput(field, `first must be between 1 and ${max}`);
  return first;
}

/**
 * The one cursor codec of the API. Keyset cursors bound to the query that made them: base64url of [tag, createdAt ISO, id], where
 * the tag is a short hash of the query's identity (connection name, scope, filters, caller).
 * A cursor from another query (or another filter) is refused instead of silently paging wrong.
 */
export function queryTag(identity: unknown): string {
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url').slice(0, 12);
}

export function encodeBoundCursor(tag: string, createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([tag, createdAt.toISOString(), id])).toString('base64url');
}

export function decodeBoundCursor(tag: string, cursor: string, field = 'after'): { createdAt: Date; id: string } {
  let parsed: unknown;
  try {
    if (cursor.length > 300) throw new Error('too long');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput(field, 'Invalid cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed.some((x) => typeof x !== 'string')) {
    throw badInput(field, 'Invalid cursor');
  }
  const [t, iso, id] = parsed as [string, string, string];
  if (t !== tag) throw badInput(field, 'This cursor belongs to another query', { reason: 'CURSOR_QUERY_MISMATCH' });
  const createdAt = new Date(iso);
  if (Number.isNaN(createdAt.getTime())) throw badInput(field, 'Invalid cursor');
  return { createdAt, id };
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Newest-first keyset condition for MikroORM: rows strictly after the cursor. The cursor must
 * have been made by the same query (`tag`).
 */
export function afterCursor(tag: string, after: string | null | undefined, field = 'after'): Record<string, unknown> {
  if (!after) return {};
  const c = decodeBoundCursor(tag, after, field);
  return { $or: [{ createdAt: { $lt: c.createdAt } }, { createdAt: c.createdAt, id: { $lt: c.id } }] };
}

/** Builds a connection from `limit + 1` rows fetched newest first. */
export function toPage<T>(
  tag: string,
  rows: T[],
  limit: number,
  key: (row: T) => { createdAt: Date; id: string },
): Page<T> {
  const hasNextPage = rows.length > limit;
  const edges = rows.slice(0, limit).map((node) => {
    const k = key(node);
    return { cursor: encodeBoundCursor(tag, k.createdAt, k.id), node };
  });
  return { edges, pageInfo: { hasNextPage, endCursor: edges.length ? edges[edges.length - 1].cursor : null } };
}
