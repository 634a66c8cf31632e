import type { EntityManager } from '@mikro-orm/postgresql';
import { User, type Role } from '../../../entities';
import { badInput } from '../../../infra/errors';
import { keyset, keysetOrder, keysetPage, keysetWhere, queryTag, type Page } from '../../../infra/pagination';

const key = (row: { createdAt: Date; id: string }) => row;

/** LIKE metacharacters typed by a person are literal. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function listUsers(
  em: EntityManager,
  filter: {
    search?: string | null;
    role?: Role | null;
    disabled?: boolean | null;
    deleted?: boolean | null;
    invitationPending?: boolean | null;
  } = {},
  first?: number | null,
  after?: string | null,
): Promise<Page<User>> {
  const where: Record<string, unknown> = {};
  if (filter.search) {
    if (filter.search.length > 200) throw badInput('filter.search', 'search must be at most 200 characters');
    const p = likePattern(filter.search.trim().toLowerCase());
    where.$or = [{ email: { $like: p } }, { name: { $ilike: p } }];
  }
  if (filter.role) where.role = filter.role;
  if (filter.disabled === true) where.disabledAt = { $ne: null };
  if (filter.disabled === false) where.disabledAt = null;
  // Deleted accounts are anonymised rows kept for the records; they are listed only when asked for.
  where.deletedAt = filter.deleted ? { $ne: null } : null;
  if (filter.invitationPending === true) Object.assign(where, { invitedAt: { $ne: null }, emailVerifiedAt: null });
  if (filter.invitationPending === false) where.$not = { invitedAt: { $ne: null }, emailVerifiedAt: null };
  const tag = queryTag([
    'users',
    filter.search ?? null,
    filter.role ?? null,
    filter.disabled ?? null,
    !!filter.deleted,
    filter.invitationPending ?? null,
  ]);
  const k = keyset(tag, { first, after });
  const rows = await em.find(User, { $and: [where, keysetWhere(k)] }, { orderBy: keysetOrder(k), limit: k.limit + 1 });
  return keysetPage(tag, rows, k, key, () => em.count(User, where));
}
