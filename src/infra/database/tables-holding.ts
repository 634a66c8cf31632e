import type { EntityManager } from '@mikro-orm/postgresql';
import { isUuid, uuidArray } from './sql';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Which of `tables` (each with a uuid primary key `id`) holds each of `ids`, in ONE statement: a
 * `union all` of primary-key lookups. Ids that are not uuids, or that no table holds, are absent.
 * Table names come from code, never from a request (they are checked all the same).
 */
export async function tablesHolding(
  em: EntityManager,
  tables: readonly string[],
  ids: readonly string[],
): Promise<Map<string, string>> {
  const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
  if (valid.length === 0 || tables.length === 0) return new Map();
  for (const t of tables) if (!IDENTIFIER.test(t)) throw new Error(`not a table name: ${t}`);
  const array = uuidArray(valid);
  const rows = (await em.execute(
    tables.map((t) => `select '${t}' as tbl, id from "${t}" where id = any(?::uuid[])`).join(' union all '),
    tables.map(() => array),
  )) as { tbl: string; id: string }[];
  return new Map(rows.map((r) => [String(r.id), r.tbl]));
}
