import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role, TwoFactor, type User } from '../../../entities';
import type { AppContext } from '../../../schema/context';
import { DEFAULT_PAGE, MAX_PAGE } from '../../../infra/pagination';
import { requestLoader } from '../../../schema/loaders';
import { Audited, AuditAction, NOTHING_CHANGED } from '../../audit';
import { UserType } from '../user.types';
import { UserConnection, UserFilter } from './admin.types';
import { listUsers } from './users.query';

const userAdmin = (ctx: AppContext) => ctx.services.auth.userAdmin;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The audit row is about the user changed (or named, when the change failed and the name is an id). */
export const aboutUser = (args: { userId: string }, user?: User) =>
  user?.id ?? (UUID.test(args.userId) ? args.userId : null);

/** Admins list, promote, disable and unlock accounts; every change is audited. */
@Resolver()
export class UserAdminResolver {
  @Authorized(Role.ADMIN)
  @Query(() => UserConnection, {
    nullable: true,
    description:
      'Accounts, newest first (admins only). Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  users(
    @Arg('filter', () => UserFilter, { nullable: true, description: 'Narrows the list; all accounts when omitted' })
    filter: UserFilter | null,
    @Arg('first', () => Int, { nullable: true, description: `Page size, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` })
    first: number | null,
    @Arg('after', () => String, {
      nullable: true,
      description: 'pageInfo.endCursor of the previous page, from the same query and filter',
    })
    after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<UserConnection> {
    return listUsers(ctx.em, filter ?? {}, first, after) as Promise<UserConnection>;
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string; role: Role }, User, { from: Role }>(AuditAction.ROLE_CHANGED, {
    userId: aboutUser,
    before: async ({ userId }, ctx) => ({ from: (await userAdmin(ctx).find(ctx.em, userId)).role }),
    outcome: (_user, { role }, { from }) =>
      from === role ? NOTHING_CHANGED : { from, to: role, before: { role: from }, after: { role } },
  })
  @Mutation(() => UserType, {
    description: 'Changes an account’s role; its open WebSockets close (4003) and reconnect with the new role',
  })
  setUserRole(
    @Arg('userId', () => ID, { description: 'The account to change' }) userId: string,
    @Arg('role', () => Role, { description: 'The new role' }) role: Role,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return userAdmin(ctx).setRole(ctx.em, userId, role);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string; disabled: boolean }, User, { wasDisabled: boolean }>(
    ({ disabled }) => (disabled ? AuditAction.USER_DISABLED : AuditAction.USER_ENABLED),
    {
      userId: aboutUser,
      before: async ({ userId }, ctx) => ({ wasDisabled: !!(await userAdmin(ctx).find(ctx.em, userId)).disabledAt }),
      outcome: (_user, { disabled }, { wasDisabled }) =>
        disabled === wasDisabled ? NOTHING_CHANGED : { before: { disabled: wasDisabled }, after: { disabled } },
    },
  )
  @Mutation(() => UserType, { description: 'Disabling ends every session of the user' })
  setUserDisabled(
    @Arg('userId', () => ID, { description: 'The account to change' }) userId: string,
    @Arg('disabled', () => Boolean, {
      description: 'true: no sign-in, sessions and reset links end; false: enabled again',
    })
    disabled: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return userAdmin(ctx).setDisabled(ctx.em, userId, disabled);
  }

  @Authorized(Role.ADMIN)
  @Audited<{ userId: string }, User, { hadTwoFactor: boolean }>(AuditAction.TWO_FACTOR_DISABLED, {
    userId: aboutUser,
    details: () => ({ by: 'admin' }),
    before: async ({ userId }, ctx) => ({ hadTwoFactor: await userAdmin(ctx).hasTwoFactor(ctx.em, userId) }),
    outcome: (_user, _args, { hadTwoFactor }) =>
      hadTwoFactor ? { before: { twoFactor: true }, after: { twoFactor: false } } : NOTHING_CHANGED,
  })
  @Mutation(() => UserType, { description: 'Switches 2FA off for a user who lost their device and recovery codes' })
  resetUserTwoFactor(
    @Arg('userId', () => ID, { description: 'The account whose 2FA to switch off' }) userId: string,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return userAdmin(ctx).resetTwoFactor(ctx.em, userId);
  }
}

/** Account-security fields of User, batched per request (one query for a page of users). */
@Resolver(() => UserType)
export class UserSecurityFieldsResolver {
  @FieldResolver(() => Boolean, { description: 'Whether sign-in needs a TOTP or recovery code' })
  twoFactorEnabled(@Root() user: User, @Ctx() ctx: AppContext): Promise<boolean> {
    return requestLoader<string, boolean>(ctx, 'twoFactorEnabled', async (ids) => {
      const rows = await ctx.em.find(
        TwoFactor,
        { user: { $in: [...ids] }, enabledAt: { $ne: null } },
        { fields: ['user'] },
      );
      const on = new Set(rows.map((r) => r.user.id));
      return ids.map((id) => on.has(id));
    }).load(user.id);
  }

  @FieldResolver(() => Boolean, { description: 'Disabled by an admin: cannot sign in; see setUserDisabled' })
  disabled(@Root() user: User): boolean {
    return !!user.disabledAt;
  }
}
