import { Field, InputType, ObjectType } from 'type-graphql';
import { Role } from '../../../entities/user';
import { Connection } from '../../../schema/connection';
import { UserType } from '../user.types';

@InputType({ description: 'Narrows users; the conditions given must all hold' })
export class UserFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Part of the email or name, case-insensitive, matched literally (% and _ too); at most 200 characters',
  })
  search?: string | null;

  @Field(() => Role, { nullable: true, description: 'Only accounts with this role' })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only disabled accounts; false: only enabled ones' })
  disabled?: boolean | null;
}

@ObjectType({ description: 'A page of accounts, newest first (users)' })
export class UserConnection extends Connection(UserType, 'User') {}
