import { Role, User } from '../../entities';
import type { AppContext } from '../../schema/context';
import { isUuid } from '../../infra/database/sql';
import { byId, requestLoader } from '../../schema/loaders';

/** Accounts by id, batched over a request. No access rule: the field that shows a user decides who may see it. */
export const userById = (ctx: AppContext) =>
  requestLoader<string, User | null>(ctx, 'accounts:userById', async (ids) =>
    byId(await ctx.em.find(User, { id: { $in: [...ids] } }), ids),
  );

/**
 * The account `id` when the request's caller may read it as a user in its own right (the rule of
 * `users` and `me`): admins read every account, anyone else only their own; null otherwise.
 */
export async function readableUser(ctx: AppContext, id: string | null | undefined): Promise<User | null> {
  const caller = ctx.user;
  if (!isUuid(id) || !caller) return null;
  if (caller.role !== Role.ADMIN && caller.id.toLowerCase() !== id.toLowerCase()) return null;
  return userById(ctx).load(id.toLowerCase());
}
