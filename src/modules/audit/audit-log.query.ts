import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from '../../entities';
import { badInput } from '../../infra/errors';
import {
  keyset,
  keysetOrder,
  keysetPage,
  keysetWhere,
  queryTag,
  type Page,
  type PageArgs,
} from '../../infra/pagination';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AuditLogFilterInput {
  userId?: string | null;
  action?: string | null;
  success?: boolean | null;
  since?: Date | null;
  until?: Date | null;
}

/** Audit rows, newest first, a page at a time (at most 500), read forwards (first, after) or backwards (last, before). */
export async function listAuditLog(
  em: EntityManager,
  filter: AuditLogFilterInput = {},
  page: PageArgs = {},
): Promise<Page<AuditLog>> {
  const where: Record<string, unknown> = {};
  if (filter.userId) {
    if (!UUID.test(filter.userId)) throw badInput('filter.userId', 'userId is not a valid id');
    where.userId = filter.userId;
  }
  if (filter.action) where.action = filter.action.slice(0, 64);
  if (typeof filter.success === 'boolean') where.success = filter.success;
  if (filter.since || filter.until) {
    where.createdAt = {
      ...(filter.since ? { $gte: filter.since } : {}),
      ...(filter.until ? { $lt: filter.until } : {}),
    };
  }
  const tag = queryTag([
    'auditLog',
    filter.userId ?? null,
    filter.action ?? null,
    filter.success ?? null,
    filter.since ?? null,
    filter.until ?? null,
  ]);
  const k = keyset(tag, page, 500);
  const rows = await em.find(
    AuditLog,
    { $and: [where, keysetWhere(k)] },
    { orderBy: keysetOrder(k), limit: k.limit + 1 },
  );
  return keysetPage(
    tag,
    rows,
    k,
    (row) => row,
    () => em.count(AuditLog, where),
  );
}
