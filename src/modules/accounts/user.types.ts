import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Plan, Role } from '../../entities/user';

registerEnumType(Role, {
  name: 'Role',
  description: 'ADMIN manages users and models; CLINICIAN owns patients; RESEARCHER reads de-identified data',
});
registerEnumType(Plan, { name: 'Plan' });

@ObjectType('User')
export class UserType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Role)
  role!: Role;

  @Field(() => Plan)
  plan!: Plan;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastLoginAt?: Date | null;
}
