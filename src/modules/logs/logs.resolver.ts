import {
  Arg,
  Authorized,
  Ctx,
  Int,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { Role } from '../../entities';
import { badInput, forbidden, unauthenticated } from '../../infra/errors';
import type { AppContext } from '../../schema/context';
import type { SourcedLine } from './log-bus';
import { levelNumber, toServerLogLine } from './log-lines';
import { LogLevel, ServerLogLine, ServerLogs } from './logs.types';

/** Most lines one serverLogs call returns (each process answers at most this many). */
export const MAX_LOG_LINES = 500;

@Resolver()
export class LogsResolver {
  @Authorized(Role.ADMIN)
  @Query(() => ServerLogs, {
    nullable: true,
    description:
      'Recent log lines of every api and worker process (each keeps its last LOG_RING_SIZE lines in memory), merged by time. `sources` says which processes answered (processes seen in the last minute are waited for, up to 1.5 s). Admins only; null with FORBIDDEN or UNAUTHENTICATED otherwise',
  })
  async serverLogs(
    @Arg('level', () => LogLevel, { defaultValue: LogLevel.INFO, description: 'This level and the ones above it' })
    level: LogLevel,
    @Arg('since', () => Date, { nullable: true, description: 'Only lines written at or after this instant' })
    since: Date | null,
    @Arg('limit', () => Int, { defaultValue: 100, description: `The newest lines, 1..${MAX_LOG_LINES}` })
    limit: number,
    @Ctx() ctx: AppContext,
  ): Promise<ServerLogs> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LOG_LINES)
      throw badInput('limit', `limit must be 1..${MAX_LOG_LINES}`, { min: 1, max: MAX_LOG_LINES });
    if (since && Number.isNaN(since.getTime())) throw badInput('since', 'since must be a date-time');
    const got = await ctx.services.logs.gather({
      minLevel: levelNumber(level),
      since: since?.getTime() ?? null,
      limit,
    });
    return {
      lines: got.lines.map(toServerLogLine),
      sources: got.sources.map((s) => ({ source: s.source, answered: s.answered })),
    };
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => ServerLogLine, {
    description:
      'Live tail: every line every api and worker process writes from now on, at `level` and above (lines are sent in batches every 100 ms; a client that falls far behind is ended). Admins only',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { level?: LogLevel }, AppContext>) => {
      // Checked here: the subscription is set up before any event reaches the resolver's guard.
      if (!context.user) throw unauthenticated();
      if (context.user.role !== Role.ADMIN) throw forbidden();
      return context.services.logs.tail(levelNumber(args.level ?? LogLevel.INFO));
    },
  })
  serverLogStream(
    @Arg('level', () => LogLevel, { defaultValue: LogLevel.INFO, description: 'This level and the ones above it' })
    _level: LogLevel,
    @Root() line: SourcedLine,
  ): ServerLogLine {
    return toServerLogLine(line);
  }
}
