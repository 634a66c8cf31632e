import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Page } from '../../../infra/pagination';
import type { AppContext, AuthUser } from '../../../schema/context';
import { CurrentUser } from '../../../schema/current-user';
import { JobConnection, JobsArgs } from './job-control.types';
import { JobType } from './jobs.types';
import { toJob } from './views';

const control = (ctx: AppContext) => ctx.services.inference.control;

/** The caller's jobs: listing them (a page reload finds the ones still running) and cancelling one. */
@Resolver()
export class JobControlResolver {
  @Authorized()
  @Query(() => JobConnection, {
    nullable: true,
    description:
      "The caller's classification and segmentation jobs, newest first (admins: their own too). `status: [QUEUED, RUNNING]` finds the jobs still going, e.g. after a page reload. A job whose images include a patient no longer shared with the caller is left out, as in `job(id)`.",
  })
  async jobs(
    @Args(() => JobsArgs) args: JobsArgs,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Page<JobType>> {
    const page = await control(ctx).list(ctx.em, user, args);
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toJob(e.node) })) };
  }

  @Authorized()
  @Mutation(() => JobType, {
    description:
      "Cancels a QUEUED or RUNNING job of the caller (admins: any job). A queued job never runs; a running one stops before its next image, and the results it stored stay. Returns the job, CANCELLED; its inferenceProgress subscription ends with a CANCELLED event. A job that has ended: CONFLICT, reason JOB_FINISHED. Another user's job: NOT_FOUND.",
  })
  async cancelJob(
    @Arg('id', () => ID, { description: 'The job to cancel' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<JobType> {
    return toJob(await control(ctx).cancel(ctx.em, user, id));
  }
}
