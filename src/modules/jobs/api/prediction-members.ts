import { Field, Float, ObjectType, Resolver, FieldResolver, Root } from 'type-graphql';
import type { PredictionMemberRecord } from '../../../entities/prediction';
import { LabelProbability, PredictionType } from './jobs.types';

@ObjectType({
  description:
    'One classification ensemble member’s own answer, before the ensemble averaged it (its labels are the ensemble’s)',
})
export class ClassificationMemberResult {
  @Field(() => String, { description: 'Model.name' }) model!: string;
  @Field(() => String, { description: 'The version that ran' }) version!: string;
  @Field(() => Float, { description: 'Its normalised weight in the ensemble, 0..1' }) weight!: number;
  @Field(() => String, {
    description: 'This member’s label by the rule of Prediction.label, at the ensemble’s decision threshold',
  })
  label!: string;
  @Field(() => Float, { description: 'This member’s probability of its label, 0..1' }) confidence!: number;
  @Field(() => Float, { description: 'This member’s summed probability of the malignant labels, 0..1' })
  malignantProbability!: number;
  @Field(() => [LabelProbability], { description: 'This member’s probability of every label, in label order' })
  probabilities!: LabelProbability[];
}

@ObjectType({
  description:
    'How much the members of a classification ensemble disagree: an uncertainty signal beside the averaged answer, not a probability',
})
export class ClassificationDisagreement {
  @Field(() => Float, { description: 'Largest minus smallest of the members’ malignantProbability, 0..1' })
  malignantProbabilitySpread!: number;
  @Field(() => Float, {
    description:
      'Standard deviation of the members’ malignantProbability around their weighted mean, weighted by their normalised weights, 0..0.5',
  })
  malignantProbabilityStdDev!: number;
  @Field(() => Boolean, { description: 'The members’ own labels are not all the same' })
  labelsDisagree!: boolean;
}

/** The members that kept their own output, as the API shows them (none on predictions stored before [14]). */
export function classificationMemberResults(records: readonly PredictionMemberRecord[]): ClassificationMemberResult[] {
  return records.flatMap((m) =>
    m.output ? [{ model: m.model, version: m.version, weight: m.weight, ...m.output }] : [],
  );
}

/** Prediction.memberResults and memberDisagreement. */
@Resolver(() => PredictionType)
export class PredictionMembersResolver {
  @FieldResolver(() => [ClassificationMemberResult], {
    description:
      'Each member’s own answer, in the members’ order; empty on predictions stored before members’ outputs were kept',
  })
  memberResults(@Root() p: PredictionType): ClassificationMemberResult[] {
    return classificationMemberResults(p.memberRecords);
  }

  @FieldResolver(() => ClassificationDisagreement, {
    nullable: true,
    description:
      'How much the members disagree (spread and weighted standard deviation of their malignantProbability, and whether their labels differ); null with one member and on predictions stored before it was measured',
  })
  memberDisagreement(@Root() p: PredictionType): ClassificationDisagreement | null {
    const c = p.disagreementColumns;
    if (c.memberMalignantSpread == null || c.memberMalignantStdDev == null || c.membersDisagree == null) return null;
    return {
      malignantProbabilitySpread: c.memberMalignantSpread,
      malignantProbabilityStdDev: c.memberMalignantStdDev,
      labelsDisagree: c.membersDisagree,
    };
  }
}
