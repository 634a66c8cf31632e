import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../entities';
import type { AppContext } from '../../schema/context';
import { Download } from '../../schema/download';
import { Audited, AuditAction } from '../audit';
import { ResearchExportLinks, type MintedExport } from './research-export';
import { ResearchService } from './research.service';
import { LesionMetricsConnection, LesionMetricsSummary, MetricsFilter } from './research.types';

// Built per request as before: deriving its key (HKDF) costs microseconds, and the secret is the config's.
const research = (ctx: AppContext) => new ResearchService(ctx.services.config.URL_SIGNING_SECRET);
const exportLinks = ({ services: { config } }: AppContext) =>
  new ResearchExportLinks({
    secret: config.URL_SIGNING_SECRET,
    publicUrl: config.PUBLIC_URL,
    ttlSeconds: config.SIGNED_URL_TTL_SECONDS,
  });

/** The filter as an audit row records it: the conditions given, nothing unset. */
const filterDetails = (f: MetricsFilter | null) =>
  Object.fromEntries(Object.entries(f ?? {}).filter(([, v]) => v !== null && v !== undefined));

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

  @Authorized(Role.RESEARCHER, Role.ADMIN)
  @Audited<{ filter: MetricsFilter | null }, MintedExport>(AuditAction.RESEARCH_EXPORTED, {
    details: ({ filter }) => ({ filter: filterDetails(filter) }),
    outcome: (minted) => ({ export: minted.exportId, expiresAt: minted.expiresAt.toISOString() }),
  })
  @Mutation(() => Download, {
    description:
      'A signed link to every lesionMetrics row matching the filter as one CSV (streamed, not paged): hashed ids of a new export, no names. The link works until expiresAt and only while its owner is still a researcher or admin',
  })
  exportLesionMetricsCsv(
    @Arg('filter', () => MetricsFilter, { nullable: true, description: 'Narrows the export; everything when omitted' })
    filter: MetricsFilter | null,
    @Ctx() ctx: AppContext,
  ): MintedExport {
    return exportLinks(ctx).mint(ctx.user!.id, filter, (id) => research(ctx).exportName(id));
  }
}
