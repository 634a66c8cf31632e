import { Field, ObjectType } from 'type-graphql';
import { UserType } from '../user.types';

@ObjectType({
  description: 'The result of a sign-in step. With 2FA on, login returns only twoFactorRequired and challengeToken.',
})
export class AuthPayload {
  @Field(() => Boolean, {
    description: 'True after a correct password on an account with 2FA: finish with verifyTwoFactor(challengeToken)',
  })
  twoFactorRequired!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass to verifyTwoFactor with a code; valid 5 minutes' })
  challengeToken?: string | null;

  @Field(() => String, { nullable: true, description: 'JWT for `Authorization: Bearer`; valid 15 minutes' })
  accessToken?: string | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When accessToken expires; refresh before then. Null when twoFactorRequired',
  })
  accessTokenExpiresAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'Opaque; exchange with refreshSession (each one works once)' })
  refreshToken?: string | null;

  @Field(() => UserType, { nullable: true, description: 'The signed-in account; null when twoFactorRequired' })
  user?: UserType | null;

  @Field(() => String, {
    nullable: true,
    description:
      "After a complete sign-in: keep it (per account) and pass it to the next login as deviceToken. It marks this client as the owner's known device, which strangers' failed sign-ins cannot lock out. Valid 180 days or until the password changes; grants no access on its own",
  })
  deviceToken?: string | null;
}
