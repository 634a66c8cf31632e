import { Field, InputType } from 'type-graphql';

@InputType({ description: 'A new account (register). The account is a CLINICIAN on the FREE plan' })
export class RegisterInput {
  @Field(() => String, {
    description: 'Sign-in address; stored trimmed and lower-cased. A verification link is mailed to it',
  })
  email!: string;

  @Field(() => String, { description: '8 to 128 characters, not a common password; any characters, spaces included' })
  password!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Display name shown to colleagues; optional, trimmed, at most 200 characters; blank counts as none',
  })
  name?: string | null;
}
