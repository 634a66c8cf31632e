import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { JobKind, JobStatus } from '../../../entities/inference-job';
import { Connection } from '../../../schema/connection';
import { JobType } from './jobs.types';

/** Which of the caller's jobs `jobs` lists, and the page. */
@ArgsType()
export class JobsArgs {
  @Field(() => [JobStatus], {
    nullable: true,
    description:
      'Only jobs in one of these statuses (e.g. [QUEUED, RUNNING] for the jobs still going); none or empty: all',
  })
  status?: JobStatus[] | null;

  @Field(() => JobKind, { nullable: true, description: 'Only classifications or only segmentations' })
  kind?: JobKind | null;

  @Field(() => Date, { nullable: true, description: 'Only jobs created at or after this instant' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only jobs created before this instant' })
  until?: Date | null;

  @Field(() => Int, { nullable: true, description: 'Page size, 1..100 (default 20)' })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description: "The previous page's pageInfo.endCursor, with the same filters",
  })
  after?: string | null;
}

@ObjectType({ description: "A page of the caller's inference jobs, newest first" })
export class JobConnection extends Connection(JobType, 'Job') {}
