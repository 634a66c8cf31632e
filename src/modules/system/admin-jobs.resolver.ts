import { Arg, ArgsType, Args, Authorized, Ctx, Field, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Role, type InferenceJob } from '../../entities';
import type { Page } from '../../infra/pagination';
import type { AppContext } from '../../schema/context';
import { Audited, AuditAction } from '../audit';
import { JobConnection, JobsArgs, JobType, toJob } from '../jobs';
import { listAllJobs, retryJob } from './admin-jobs';

@ArgsType()
export class AllJobsArgs extends JobsArgs {
  @Field(() => ID, { nullable: true, description: "Only this user's jobs" })
  ownerId?: string | null;
}

/** Every user's jobs for admins (the failed ones with their reasons), and retrying a failed one. */
@Resolver()
export class AdminJobsResolver {
  @Authorized(Role.ADMIN)
  @Query(() => JobConnection, {
    nullable: true,
    description:
      'Every user’s classification, segmentation and report jobs, newest first (admins only); e.g. `status: [FAILED]` lists the failed ones with their reason in `error`, `ownerId` narrows to one user. Null with FORBIDDEN or UNAUTHENTICATED otherwise',
  })
  async allJobs(@Args(() => AllJobsArgs) args: AllJobsArgs, @Ctx() ctx: AppContext): Promise<Page<JobType>> {
    const page = await listAllJobs(ctx.em, ctx.services.inference, args);
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toJob(e.node) })) };
  }

  @Authorized(Role.ADMIN)
  @Audited<{ id: string }, JobType, undefined>(AuditAction.JOB_RETRIED, {
    userId: (_args, job) => job?.ownerId,
    details: ({ id }) => ({ jobId: id }),
    outcome: (job) => ({ kind: job.kind }),
  })
  @Mutation(() => JobType, {
    description:
      'Queues a FAILED classification or segmentation job again (admins only): QUEUED, its error cleared; images whose results were stored are not run again; its inferenceProgress starts again from QUEUED. NOT_FOUND for no such job; CONFLICT with reason JOB_NOT_FAILED (and its status) for a job that did not fail, NOT_RETRYABLE for a report job',
  })
  async retryJob(
    @Arg('id', () => ID, { description: 'The FAILED job (allJobs(status: [FAILED]) lists them)' }) id: string,
    @Ctx() ctx: AppContext,
  ): Promise<JobType> {
    const job: InferenceJob = await retryJob(ctx.em, ctx.services.inference, id);
    return toJob(job);
  }
}
