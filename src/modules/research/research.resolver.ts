import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../../entities';
import type { AppContext } from '../../schema/context';
import { ResearchService } from './research.service';
import { LesionMetricsConnection, LesionMetricsSummary, MetricsFilter } from './research.types';

// Built per request as before: deriving its key (HKDF) costs microseconds, and the secret is the config's.
const research = (ctx: AppContext) => new ResearchService(ctx.services.config.URL_SIGNING_SECRET);

/** De-identified research metrics (researchers and admins). */
@Resolver()
export class ResearchResolver {
  @Authorized(Role.RESEARCHER, Role.ADMIN)
  @Query(() => LesionMetricsConnection, {
    nullable: true,
    description:
      'De-identified segmentation metrics with the latest prediction of each image, newest first. Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  lesionMetrics(
    @Arg('filter', () => MetricsFilter, { nullable: true, description: 'Narrows the export; everything when omitted' })
    filter: MetricsFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1 to 500 (default 20)' })
    first: number | null,
    @Arg('after', () => String, {
      nullable: true,
      description: 'pageInfo.endCursor of the previous page (same filter): continues that export, same hashed ids',
    })
    after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<LesionMetricsConnection> {
    return research(ctx).lesionMetrics(ctx.em, filter, first, after);
  }

  @Authorized(Role.RESEARCHER, Role.ADMIN)
  @Query(() => LesionMetricsSummary, {
    nullable: true,
    description:
      'Counts per severity and label; area and circularity per model version. Null, with FORBIDDEN or UNAUTHENTICATED in errors, for a caller it refuses (other root fields keep their data)',
  })
  lesionMetricsSummary(
    @Arg('filter', () => MetricsFilter, {
      nullable: true,
      description: 'Narrows the aggregates; everything when omitted',
    })
    filter: MetricsFilter | null,
    @Ctx() ctx: AppContext,
  ): Promise<LesionMetricsSummary> {
    return research(ctx).summary(ctx.em, filter);
  }
}
