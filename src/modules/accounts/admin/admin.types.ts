import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { Role } from '../../../entities/user';
import { Connection } from '../../../schema/connection';
import { UserType } from '../user.types';

@InputType()
export class UserFilter {
  @Field(() => String, { nullable: true, description: 'Part of the email or name' })
  search?: string | null;

  @Field(() => Role, { nullable: true })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true })
  disabled?: boolean | null;
}

@ObjectType()
export class UserConnection extends Connection(UserType, 'User') {
  @Field(() => Int)
  totalCount!: number;
}
