import { Field, InputType } from 'type-graphql';

@InputType()
export class RegisterInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { description: '8 to 128 characters, not a common password; any characters, spaces included' })
  password!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;
}
