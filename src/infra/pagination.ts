import { createHash } from 'node:crypto';
import { badInput } from './errors';

/** The page size a connection returns when `first` is not given, and the most it may ask for. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** `first` (or `last`: `field`) within 1..max (default 20). */
export function pageSize(first: number | null | undefined, max = MAX_PAGE, field = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > max)
    throw badInput(field, `${field} must be between 1 and ${max}`);
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
  /** Newest first, whichever way the page was read. */
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /**
   * Counts every row of the query (all pages, its filters applied, the cursor not). A thunk, so the
   * count statement runs only when a client selects `totalCount` (src/schema/connection.ts).
   */
  totalCount?: () => Promise<number>;
}

/** A connection's paging arguments: forwards (`first`, `after`) or backwards (`last`, `before`). */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * Where one page of a newest-first list lies. Forwards: the `limit` rows strictly older than the
 * bound (the `after` cursor's row), or the newest rows without one. Backwards: the `limit` rows
 * strictly newer than the bound (the `before` cursor's row), or the oldest rows without one.
 */
export interface Keyset {
  backward: boolean;
  limit: number;
  bound: { createdAt: Date; id: string } | null;
}

/**
 * The keyset of a connection's arguments (`max`: the largest page). A cursor must have been made by
 * the same query (`tag`), whichever way it was read: an `endCursor` read forwards can be passed as
 * `before` to come back. Mixing the two directions is BAD_USER_INPUT.
 */
export function keyset(tag: string, args: PageArgs, max = MAX_PAGE): Keyset {
  const backward = args.last != null || args.before != null;
  if (backward && (args.first != null || args.after != null)) {
    throw badInput(
      args.last != null ? 'last' : 'before',
      'Page forwards (first, after) or backwards (last, before), not both at once',
    );
  }
  const field = backward ? 'before' : 'after';
  const cursor = backward ? args.before : args.after;
  return {
    backward,
    limit: pageSize(backward ? args.last : args.first, max, backward ? 'last' : 'first'),
    bound: cursor ? decodeBoundCursor(tag, cursor, field) : null,
  };
}

/** The keyset's condition for MikroORM (`createdAt`, `id`); read the rows in `keysetOrder`, `limit + 1` of them. */
export function keysetWhere(k: Keyset): Record<string, unknown> {
  if (!k.bound) return {};
  const op = k.backward ? '$gt' : '$lt';
  return {
    $or: [{ createdAt: { [op]: k.bound.createdAt } }, { createdAt: k.bound.createdAt, id: { [op]: k.bound.id } }],
  };
}

/** The order to read a keyset's rows in: newest first forwards, oldest first backwards. */
export function keysetOrder(k: Keyset): { createdAt: 'desc' | 'asc'; id: 'desc' | 'asc' } {
  const dir = k.backward ? 'asc' : 'desc';
  return { createdAt: dir, id: dir };
}

/**
 * Newest-first keyset condition for MikroORM: rows strictly after the cursor. The cursor must
 * have been made by the same query (`tag`).
 */
export function afterCursor(tag: string, after: string | null | undefined, field = 'after'): Record<string, unknown> {
  if (!after) return {};
  return keysetWhere({ backward: false, limit: 0, bound: decodeBoundCursor(tag, after, field) });
}

/**
 * Builds a connection from up to `limit + 1` rows read in `keysetOrder(k)`. Its edges are newest
 * first either way. Forwards, `hasNextPage` says whether older rows remain; backwards,
 * `hasPreviousPage` says whether newer ones do. The other flag is true when a cursor was given
 * (the cursor's row lies that way).
 */
export function keysetPage<T>(
  tag: string,
  rows: T[],
  k: Keyset,
  key: (row: T) => { createdAt: Date; id: string },
  totalCount?: () => Promise<number>,
): Page<T> {
  const more = rows.length > k.limit;
  const kept = rows.slice(0, k.limit);
  if (k.backward) kept.reverse();
  const edges = kept.map((node) => {
    const r = key(node);
    return { cursor: encodeBoundCursor(tag, r.createdAt, r.id), node };
  });
  const page: Page<T> = {
    edges,
    pageInfo: {
      hasNextPage: k.backward ? k.bound !== null : more,
      hasPreviousPage: k.backward ? more : k.bound !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
  if (totalCount) page.totalCount = totalCount;
  return page;
}

/** Builds the first forward page (no cursor) from `limit + 1` rows fetched newest first. */
export function toPage<T>(
  tag: string,
  rows: T[],
  limit: number,
  key: (row: T) => { createdAt: Date; id: string },
  totalCount?: () => Promise<number>,
): Page<T> {
  return keysetPage(tag, rows, { backward: false, limit, bound: null }, key, totalCount);
}
