import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Role, type User } from '../../../entities';
import { forbidden } from '../../../infra/errors';
import type { AppContext } from '../../../schema/context';
import { requestLoader } from '../../../schema/loaders';
import { UserType } from '../user.types';
import { UserUsageType } from './admin.types';
import { invitationPending } from './invitations';
import { monthStart, monthUsageOf } from '../../quotas';

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
    // One statement for all the accounts of a page (users, say).
    return requestLoader<string, UserUsageType>(ctx, 'userUsage', async (ids) => {
      const usage = await monthUsageOf(ctx.em, ids, since);
      return ids.map((id) => ({ since, ...usage.get(id)! }));
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
