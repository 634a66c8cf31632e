import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';

@InputType({ description: 'One member of a named classification ensemble' })
export class ClassificationEnsembleMemberInput {
  @Field(() => String, { description: 'Model.name of a classification model; every member shares one label list' })
  model!: string;
  @Field(() => String, {
    nullable: true,
    description: 'Pins this version (it must exist); default: whatever version is active when each job starts',
  })
  version?: string | null;
  @Field(() => Float, {
    nullable: true,
    defaultValue: 1,
    description: 'Relative weight, finite and above 0; normalised to sum to 1 over the members when a job runs',
  })
  weight?: number | null;
}

@ObjectType({ description: 'One member of a named classification ensemble, as defined' })
export class ClassificationEnsembleMember {
  @Field(() => String, { description: 'Model.name' }) model!: string;
  @Field(() => String, { nullable: true, description: 'The pinned version; null: the active one when a job starts' })
  version!: string | null;
  @Field(() => Float, { description: 'The weight as set (raw)' }) weight!: number;
  @Field(() => Float, { description: 'weight / the sum of the members’ weights: its share in the average, 0..1' })
  normalisedWeight!: number;
}

@ObjectType('ClassificationEnsemble', {
  description:
    'A named classification ensemble of the registry (docs/inference.md, "Named ensembles"): classifyImage(ensemble: name) runs its members and averages their probabilities by weight',
})
export class ClassificationEnsembleType {
  @Field(() => String, {
    description: 'Unique name, [a-z0-9][a-z0-9-]{2,63}, never a model’s; what the ensemble argument takes',
  })
  name!: string;
  @Field(() => String, { nullable: true, description: 'What it is for, as the admin wrote it' })
  description!: string | null;
  @Field(() => [ClassificationEnsembleMember], { description: '1 to 8 members, in order' })
  members!: ClassificationEnsembleMember[];
  @Field(() => Boolean, {
    description:
      'It is the default classifier: DEFAULT_CLASSIFIER names it, or DEFAULT_CLASSIFIER is unset and it is default-classifier',
  })
  isDefault!: boolean;
  @Field(() => Date, { description: 'When it was created' }) createdAt!: Date;
  @Field(() => Date, { description: 'When it was last changed' }) updatedAt!: Date;
  @Field(() => ID, {
    nullable: true,
    description: 'The admin who last changed it (User.id); null for the shipped seed',
  })
  updatedBy!: string | null;
}
