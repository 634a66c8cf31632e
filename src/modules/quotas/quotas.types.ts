import { Field, Int, ObjectType } from 'type-graphql';
import { Plan } from '../../entities';

@ObjectType()
export class QuotaUsage {
  @Field(() => Int) limit!: number;
  @Field(() => Int) used!: number;
  @Field(() => Int) remaining!: number;
  @Field(() => Date, { description: 'Start of next month (UTC), when the quota resets' }) resetsAt!: Date;
}

@ObjectType()
export class Dashboard {
  @Field(() => String) email!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) lastLoginAt?: Date | null;
  @Field(() => Plan) plan!: Plan;
  @Field(() => Int) totalUploads!: number;
  @Field(() => Int) totalPredictions!: number;
  @Field(() => Int) totalPatients!: number;
  @Field(() => QuotaUsage, { description: 'Images uploaded this month against the plan' }) uploadQuota!: QuotaUsage;
  @Field(() => QuotaUsage, { description: 'Predictions this month against the plan' }) predictionQuota!: QuotaUsage;
  @Field(() => QuotaUsage, { description: 'Segmented images this month against the plan' })
  segmentationQuota!: QuotaUsage;
}
