import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import { myDashboard, type Dashboard as DashboardData } from './dashboard.service';
import { Dashboard } from './quotas.types';

@Resolver()
export class QuotasResolver {
  @Authorized()
  @Query(() => Dashboard, {
    nullable: true,
    description:
      'The caller’s totals and this month’s quota use. Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  myDashboard(@CurrentUser() user: AuthUser, @Ctx() ctx: AppContext): Promise<DashboardData> {
    return myDashboard(ctx.em, ctx.services.config, user.id);
  }
}
