import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../entities';
import { AuditLogConnection, AuditLogFilter, UserConnection, UserFilter } from '../schema/types/auth-admin';
import type { AppContext } from '../server/context';
import { listAuditLog, listUsers } from '../auth/admin-queries';

/** Admin views of accounts and the security audit log. */
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

  @Authorized(Role.ADMIN)
  @Query(() => AuditLogConnection, { description: 'Security events, newest first' })
  auditLog(
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<AuditLogConnection> {
    return listAuditLog(ctx.em, filter ?? {}, first, after) as Promise<AuditLogConnection>;
  }
}
