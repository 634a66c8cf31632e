import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../../entities';
import type { AppContext } from '../../schema/context';
import { AuditLogConnection, AuditLogFilter } from './audit.types';
import { listAuditLog } from './audit-log.query';

/** The security audit log, for admins. */
@Resolver()
export class AuditLogResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditLogConnection, { description: 'Security events, newest first' })
  auditLog(
    @Arg('filter', () => AuditLogFilter, { nullable: true, description: 'Narrows the log; all entries when omitted' })
    filter: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1 to 500 (default 20)' })
    first: number | null,
    @Arg('after', () => String, {
      nullable: true,
      description: 'pageInfo.endCursor of the previous page, from the same query and filter',
    })
    after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<AuditLogConnection> {
    return listAuditLog(ctx.em, filter ?? {}, first, after) as Promise<AuditLogConnection>;
  }
}
