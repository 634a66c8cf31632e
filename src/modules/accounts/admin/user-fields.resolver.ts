import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Role, type User } from '../../../entities';
import { forbidden } from '../../../infra/errors';
import { uuidArray } from '../../../infra/database/sql';
import type { AppContext } from '../../../schema/context';
import { requestLoader } from '../../../schema/loaders';
import { UserType } from '../user.types';
import { UserUsageType } from './admin.types';
import { invitationPending } from './invitations';
import { monthStart } from '../../quotas';

/**
 * This month's use of a page of accounts in one statement: uploads, predictions and segmentations from
 * the month's usage row (the figures the quota checks read), reports counted on their (owner,
 * created_at) index.
 */
const USAGE_SQL = `select u.id,
    coalesce(pu.uploads, 0)::int as uploads,
    coalesce(pu.count, 0)::int as predictions,
    coalesce(pu.segmentations, 0)::int as segmentations,
    (select count(*) from reports r where r.owner_id = u.id and r.created_at >= ?)::int as reports
  from users u left join prediction_usage pu on pu.owner_id = u.id and pu.month = ?::date
  where u.id = any(?::uuid[])`;

type UsageRow = { id: string; uploads: number; predictions: number; segmentations: number; reports: number };

/** Admin-facing fields of User: this month's usage, a pending invitation, deletion. */
@Resolver(() => UserType)
export class UserAdminFieldsResolver {
  @FieldResolver(() => UserUsageType, {
    nullable: true,
    description:
      'What the account used this month (UTC): for admins (in users, for instance) and for the account itself; FORBIDDEN for anyone else',
  })
  usage(@Root() user: User, @Ctx() ctx: AppContext): Promise<UserUsageType> {
    if (ctx.user?.role !== Role.ADMIN && ctx.user?.id !== user.id)
      throw forbidden('Only admins and the account itself see its usage');
    const since = monthStart(new Date());
    return requestLoader<string, UserUsageType>(ctx, 'userUsage', async (ids) => {
      const rows = (await ctx.em.execute(USAGE_SQL, [
        since,
        since.toISOString().slice(0, 10),
        uuidArray(ids),
      ])) as UsageRow[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => {
        const r = byId.get(id);
        return { since, uploads: 0, predictions: 0, segmentations: 0, reports: 0, ...r };
      });
    }).load(user.id);
  }

  @FieldResolver(() => Boolean, {
    description: 'Invited by an admin (inviteUser) and no password chosen yet: cannot sign in until then',
  })
  invitationPending(@Root() user: User): boolean {
    return invitationPending(user);
  }

  @FieldResolver(() => Boolean, {
    description: 'Deleted by an admin (deleteUser) and kept, anonymised, for the records that point at it',
  })
  deleted(@Root() user: User): boolean {
    return !!user.deletedAt;
  }
}
