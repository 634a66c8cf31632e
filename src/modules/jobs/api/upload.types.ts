import { Field, Float, InputType } from 'type-graphql';
import { EnsembleMemberInput } from './jobs.types';

@InputType({
  description:
    "uploadImages' classification of the uploaded images (one job over all of them): the options of classifyImages",
})
export class ClassifyInput {
  @Field(() => [EnsembleMemberInput], {
    nullable: true,
    description: 'An ad-hoc ensemble, as classifyImages models; not with ensemble',
  })
  models?: EnsembleMemberInput[] | null;

  @Field(() => String, { nullable: true, description: 'A named classification ensemble, as classifyImages ensemble' })
  ensemble?: string | null;

  @Field(() => Boolean, { defaultValue: true, description: 'Also compute the Grad-CAM map of each prediction' })
  explain!: boolean;

  @Field(() => String, { nullable: true, description: 'Label to explain (default: the predicted one)' })
  targetClass?: string | null;
}

@InputType({
  description:
    "uploadImages' segmentation of the uploaded images (one job over all of them): the options of segmentImages",
})
export class SegmentInput {
  @Field(() => [EnsembleMemberInput], { description: 'The segmentation models of the weighted ensemble' })
  members!: EnsembleMemberInput[];

  @Field(() => Float, { defaultValue: 0.5, description: 'Ensemble probability at or above which a pixel is lesion' })
  threshold!: number;
}
