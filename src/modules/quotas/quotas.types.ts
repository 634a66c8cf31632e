import { Field, Int, ObjectType } from 'type-graphql';
import { Plan } from '../../entities';

@ObjectType({
  description: 'One monthly quota (calendar month, UTC). Going past it is refused: RATE_LIMITED, reason QUOTA_EXCEEDED',
})
export class QuotaUsage {
  @Field(() => Int, { description: 'What the plan allows per month' }) limit!: number;
  @Field(() => Int, { description: 'Used since the first of this month (UTC)' }) used!: number;
  @Field(() => Int, { description: 'limit - used, never below 0' }) remaining!: number;
  @Field(() => Date, { description: 'Start of next month (UTC), when the quota resets' }) resetsAt!: Date;
}

@ObjectType({ description: 'The caller’s account at a glance: totals over all time, quotas for this month' })
export class Dashboard {
  @Field(() => String, { description: 'The caller’s sign-in address' }) email!: string;
  @Field(() => Date, { description: 'When the account was registered' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'Last complete sign-in; null if never' }) lastLoginAt?: Date | null;
  @Field(() => Plan, { description: 'The plan whose limits the quotas show' }) plan!: Plan;
  @Field(() => Int, { description: 'Images the caller uploaded, ever' }) totalUploads!: number;
  @Field(() => Int, { description: 'Predictions the caller asked for, ever' }) totalPredictions!: number;
  @Field(() => Int, { description: 'Patients the caller created, ever (archived included)' }) totalPatients!: number;
  @Field(() => QuotaUsage, { description: 'Images uploaded this month against the plan' }) uploadQuota!: QuotaUsage;
  @Field(() => QuotaUsage, { description: 'Predictions this month against the plan' }) predictionQuota!: QuotaUsage;
  @Field(() => QuotaUsage, { description: 'Segmented images this month against the plan' })
  segmentationQuota!: QuotaUsage;
}
