import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { decodeBoundCursor } from '../pagination';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a uuid column's value (anything else would make PostgreSQL fail the statement). */
export const isUuid = (id: unknown): id is string => typeof id === 'string' && UUID.test(id);

/** A PostgreSQL uuid[] literal of the ids that are uuids (knex would spread a JS array into a list). */
export function uuidArray(ids: readonly string[]): string {
  return `{${ids.filter(isUuid).join(',')}}`;
}

/** The table an entity is stored in, for plain statements. */
export const tableOf = (em: EntityManager, entity: new () => object): string =>
  em.getMetadata().find(entity.name)!.tableName;

/** Newest first, strictly after the cursor (made by the query tagged `tag`): `(created_at, id) < (cursor)`. */
export function keysetAfter<T extends object>(
  qb: QueryBuilder<T>,
  alias: string,
  tag: string,
  after: string | null | undefined,
): void {
  if (!after) return;
  const c = decodeBoundCursor(tag, after);
  qb.andWhere(`(${alias}.created_at, ${alias}.id) < (?, ?)`, [c.createdAt, c.id]);
}

/** Rows created in [since, until). */
export function createdBetween<T extends object>(
  qb: QueryBuilder<T>,
  alias: string,
  window: { since?: Date | null; until?: Date | null },
): void {
  if (window.since) qb.andWhere(`${alias}.created_at >= ?`, [window.since]);
  if (window.until) qb.andWhere(`${alias}.created_at < ?`, [window.until]);
}

/**
 * The first `take` rows (newest first) of `table` for each of many parents (`column` = parent id)
 * in ONE statement: row_number() over a partition per parent, so a page of 50 parents costs one
 * query, not 50. Every id of `ids` has an entry (empty when it has no rows).
 */
export async function firstRowsPerParent<T extends object>(
  em: EntityManager,
  entity: new () => T,
  table: string,
  column: string,
  ids: readonly string[],
  take: number,
): Promise<Map<string, T[]>> {
  const rows = (await em.execute(
    `select * from (select r.*, row_number() over (partition by r.${column} order by r.created_at desc, r.id desc) as rn
       from ${table} r where r.${column} = any(?::uuid[])) t where t.rn <= ? order by t.created_at desc, t.id desc`,
    [uuidArray(ids), take],
  )) as Record<string, unknown>[];
  const out = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const raw of rows) {
    const parent = String(raw[column]);
    delete raw.rn;
    out.get(parent)?.push(em.map(entity, raw));
  }
  return out;
}

/** A statement with its `?` parameters, to run alone or sent with others in one round trip. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Transaction-scoped advisory locks on `keys` (64-bit hashes of the text), taken in sorted order so that two
 * transactions asking for overlapping sets cannot deadlock.
 */
export function advisoryXactLocks(keys: readonly string[]): Statement {
  return {
    sql: 'select pg_advisory_xact_lock(hashtextextended(t.s, 0)) from (select s from unnest(?::text[]) as s order by s) as t',
    params: [`{${[...new Set(keys)].map((k) => `"${k}"`).join(',')}}`],
  };
}

/**
 * Several statements in one round trip (one simple query, so one implicit transaction: a failure commits
 * none of them). Each still takes its own snapshot, so a count after a lock sees what committed while the
 * lock was awaited. Each statement's rows, in order.
 */
export async function executeBatch(em: EntityManager, statements: readonly Statement[]): Promise<Rows[]> {
  const res = await em.execute(
    statements.map((s) => s.sql).join(';\n'),
    statements.flatMap((s) => s.params),
  );
  // One statement answers its rows; several, one array of rows each.
  return statements.length === 1 ? [res as Rows] : (res as Rows[]);
}

/** A statement's rows, as the driver answers them. */
export type Rows = Record<string, unknown>[];
