import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { Role, TwoFactor, User } from '../../entities';
import { UserType } from './user.types';
import { UserConnection, UserFilter } from './admin.types';
import type { AppContext } from '../../schema/context';
import { listUsers } from './admin-queries';

/** Admin views of accounts. */
@Resolver()
export class AuthAdminResolver {
  @Authorized(Role.ADMIN)
  @Query(() => UserConnection, { description: 'Accounts, newest first' })
  users(
    @Arg('filter', () => UserFilter, { nullable: true }) filter: UserFilter | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<UserConnection> {
    return listUsers(ctx.em, filter ?? {}, first, after) as Promise<UserConnection>;
  }
}

/** Account-security fields of User, batched per request (one query for a page of users). */
@Resolver(() => UserType)
export class UserSecurityFieldsResolver {
  @FieldResolver(() => Boolean, { description: 'Whether sign-in needs a TOTP or recovery code' })
  twoFactorEnabled(@Root() user: User, @Ctx() ctx: AppContext): Promise<boolean> {
    let loader = ctx.loaders.get('twoFactorEnabled') as DataLoader<string, boolean> | undefined;
    if (!loader) {
      loader = new DataLoader<string, boolean>(async (ids) => {
        const rows = await ctx.em.find(
          TwoFactor,
          { user: { $in: [...ids] }, enabledAt: { $ne: null } },
          { fields: ['user'] },
        );
        const on = new Set(rows.map((r) => r.user.id));
        return ids.map((id) => on.has(id));
      });
      ctx.loaders.set('twoFactorEnabled', loader);
    }
    return loader.load(user.id);
  }

  @FieldResolver(() => Boolean)
  disabled(@Root() user: User): boolean {
    return !!user.disabledAt;
  }
}
