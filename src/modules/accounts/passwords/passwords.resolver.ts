import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import { Public } from '../../../schema/access';
import type { AppContext, AuthUser } from '../../../schema/context';
import { CurrentUser } from '../../../schema/current-user';
import { requestMeta } from '../../audit';
import { accountFromCaller, accountFromEmailArg, RateLimit } from '../limits/rate-limit-middleware';

const passwords = (ctx: AppContext) => ctx.services.auth.passwords;

/** Forgotten and changed passwords (docs/auth.md): each operation a rate limit, an access rule and one call. */
@Resolver()
export class PasswordsResolver {
  @Public()
  @UseMiddleware(RateLimit('passwordReset', accountFromEmailArg))
  @Mutation(() => Boolean, { description: 'Mails a reset link when the account exists; the answer is true either way' })
  requestPasswordReset(
    @Arg('email', () => String, { description: 'The account’s sign-in address' }) email: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return passwords(ctx).requestReset(ctx.em, email, requestMeta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('passwordReset'))
  @Mutation(() => Boolean, {
    description: 'Sets a new password with the token from the link; ends every session; 2FA stays on',
  })
  resetPassword(
    @Arg('token', () => String, {
      description: 'The token query parameter of the mailed link; single use, valid 30 minutes by default',
    })
    token: string,
    @Arg('newPassword', () => String, {
      description: '8 to 128 characters, not a common password nor the email (docs/auth.md)',
    })
    newPassword: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return passwords(ctx).reset(ctx.em, token, newPassword, requestMeta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('account', accountFromCaller))
  @Mutation(() => Boolean, { description: 'Ends the caller’s other sessions' })
  changePassword(
    @Arg('currentPassword', () => String, { description: 'The password in use now' }) currentPassword: string,
    @Arg('newPassword', () => String, {
      description: '8 to 128 characters, not a common password nor the email (docs/auth.md)',
    })
    newPassword: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return passwords(ctx).change(ctx.em, user, currentPassword, newPassword, requestMeta(ctx));
  }
}
