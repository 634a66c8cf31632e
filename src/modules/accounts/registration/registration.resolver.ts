import { Arg, Ctx, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import type { User } from '../../../entities';
import { Public } from '../../../schema/access';
import type { AppContext } from '../../../schema/context';
import { requestMeta } from '../../audit';
import { accountFromEmailArg, accountFromRegisterInput, RateLimit } from '../limits/rate-limit-middleware';
import { UserType } from '../user.types';
import { RegisterInput } from './registration.types';

const registration = (ctx: AppContext) => ctx.services.auth.registration;

/** Signing up (docs/auth.md): each operation a rate limit, an access rule and one call. */
@Resolver()
export class RegistrationResolver {
  @Public()
  @UseMiddleware(RateLimit('register', accountFromRegisterInput))
  @Mutation(() => UserType, {
    description:
      'Creates a CLINICIAN account and mails a verification link. An address that has an account gets the same answer (its owner is mailed instead)',
  })
  register(
    @Arg('input', () => RegisterInput, { description: 'Address, password and optional name of the new account' })
    input: RegisterInput,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return registration(ctx).register(ctx.em, input, requestMeta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('emailVerification'))
  @Mutation(() => UserType, { description: 'Confirms the email address with the token from the link' })
  verifyEmail(
    @Arg('token', () => String, {
      description: 'The token query parameter of the mailed link; single use, valid 24 hours by default',
    })
    token: string,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return registration(ctx).verifyEmail(ctx.em, token, requestMeta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('emailVerification', accountFromEmailArg))
  @Mutation(() => Boolean, { description: 'Mails a new verification link; true whether or not the account exists' })
  resendVerificationEmail(
    @Arg('email', () => String, { description: 'The address registered; unverified, enabled accounts get a link' })
    email: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return registration(ctx).resendVerificationEmail(ctx.em, email);
  }
}
