import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../../entities';
import type { AppContext } from '../../schema/context';
import { AuditLogConnection, AuditLogFilter } from './audit.types';
import { listAuditLog } from './audit-log.query';

/** The security audit log, for admins. */
@Resolver()
export class AuditLogResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditLogConnection, {
    nullable: true,
    description:
      'Security events, newest first; page forwards with first/after, or backwards with last/before (without before: the oldest entries). Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
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
    @Arg('last', () => Int, {
      nullable: true,
      description:
        'Read backwards: this many entries, 1 to 500 (default 20), just newer than `before`, or the oldest ones',
    })
    last: number | null,
    @Arg('before', () => String, {
      nullable: true,
      description: 'A cursor of the same query and filter (e.g. pageInfo.startCursor); the page ends just before it',
    })
    before: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<AuditLogConnection> {
    return listAuditLog(ctx.em, filter ?? {}, { first, after, last, before }) as Promise<AuditLogConnection>;
  }
}
