import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../../entities';
import { badInput } from '../../infra/errors';
import type { AppContext } from '../../schema/context';
import type { ProcessBeat } from './process-directory';
import { SystemStatus } from './system.types';
import { ModelUsageReportType, ProcessStatusType } from './monitoring.types';
import { MAX_USAGE_WINDOW_MS, type UsageReport } from './usage-ledger';

const toProcess = (p: ProcessBeat): ProcessStatusType => ({
  ...p,
  startedAt: new Date(p.startedAt),
  seenAt: new Date(p.seenAt),
});

/**
 * The deployment around the answering process (systemStatus is reached by admins only): every
 * process heard from in the last minute, the queue, and model usage summed over processes. Field
 * resolvers, so /readyz (which builds a SystemStatus too) pays for none of it.
 */
@Resolver(() => SystemStatus)
export class SystemStatusFieldsResolver {
  @FieldResolver(() => ProcessStatusType, { description: 'The answering process now' })
  process(@Ctx() ctx: AppContext): ProcessStatusType {
    return toProcess(ctx.services.monitoring.snapshot());
  }

  @FieldResolver(() => [ProcessStatusType], {
    description:
      'Every api and worker process whose heartbeat was seen in the last minute (this one included, as it is now): memory, event-loop delay and the models it holds per device',
  })
  async processes(@Ctx() ctx: AppContext): Promise<ProcessStatusType[]> {
    return (await ctx.services.monitoring.processes()).map(toProcess);
  }

  @FieldResolver(() => Int, { description: '`dermagraph worker` processes seen in the last minute' })
  async workersSeen(@Ctx() ctx: AppContext): Promise<number> {
    return (await ctx.services.monitoring.processes()).filter((p) => p.role === 'worker').length;
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description:
      'Inference and report jobs waiting to start (the BullMQ queue shared by every process, or this process’s in-memory queue); null when the queue cannot be read',
  })
  async queueDepth(@Ctx() ctx: AppContext): Promise<number | null> {
    return ctx.services.inference.queue.depth().catch(() => null);
  }
}

@Resolver()
export class ModelUsageResolver {
  @Authorized(Role.ADMIN)
  @Query(() => ModelUsageReportType, {
    nullable: true,
    description:
      'Per model version: images run, failed, and p50/p95 session run time in [since, until), summed over every api and worker process (each flushes its counts every MONITOR_INTERVAL_MS, so the last seconds may be missing). At most 31 days; minute buckets up to a day within the last 48 hours, else hour buckets (kept 35 days). Admins only',
  })
  modelUsage(
    @Arg('since', () => Date, { description: 'Start of the window' }) since: Date,
    @Arg('until', () => Date, { nullable: true, description: 'End of the window (default: now)' }) until: Date | null,
    @Ctx() ctx: AppContext,
  ): Promise<UsageReport> {
    const end = until ?? new Date();
    if (Number.isNaN(since.getTime())) throw badInput('since', 'since must be a date-time');
    if (Number.isNaN(end.getTime())) throw badInput('until', 'until must be a date-time');
    if (end.getTime() <= since.getTime()) throw badInput('until', 'until must be after since');
    if (end.getTime() - since.getTime() > MAX_USAGE_WINDOW_MS)
      throw badInput('since', 'the window may span at most 31 days', { maxDays: 31 });
    return ctx.services.monitoring.usage.report(since, end);
  }
}
