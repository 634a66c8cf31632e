import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import type { AppContext, AuthUser } from '../../../schema/context';
import { CurrentUser } from '../../../schema/current-user';
import { requestMeta } from '../../audit';
import { accountFromCaller, RateLimit } from '../limits/rate-limit-middleware';
import { TwoFactorEnrollment } from './two-factor.types';

const twoFactor = (ctx: AppContext) => ctx.services.auth.twoFactor;

/** The caller's TOTP two-factor authentication (docs/auth.md). */
@Resolver()
export class TwoFactorResolver {
  @Authorized()
  @UseMiddleware(RateLimit('account', accountFromCaller))
  @Mutation(() => TwoFactorEnrollment, {
    description:
      'Starts TOTP enrolment: a new secret to scan (replacing an unconfirmed one). CONFLICT when 2FA is already on',
  })
  beginTwoFactorEnrollment(@CurrentUser() user: AuthUser, @Ctx() ctx: AppContext): Promise<TwoFactorEnrollment> {
    return twoFactor(ctx).begin(ctx.em, user);
  }

  @Authorized()
  @UseMiddleware(RateLimit('twoFactor', accountFromCaller))
  @Mutation(() => [String], { description: 'Turns 2FA on; returns 10 recovery codes, shown this once' })
  confirmTwoFactorEnrollment(
    @Arg('code', () => String, { description: 'A current 6-digit code from the new secret (not a recovery code)' })
    code: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<string[]> {
    return twoFactor(ctx).confirm(ctx.em, user, code, requestMeta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('twoFactor', accountFromCaller))
  @Mutation(() => Boolean, {
    description: 'Turns 2FA off and deletes the secret and recovery codes; true when done',
  })
  disableTwoFactor(
    @Arg('password', () => String, { description: 'The account password' }) password: string,
    @Arg('code', () => String, { description: 'A current TOTP code or an unused recovery code' }) code: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return twoFactor(ctx).disable(ctx.em, user, password, code, requestMeta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('twoFactor', accountFromCaller))
  @Mutation(() => [String], { description: 'Replaces the recovery codes; needs a current TOTP code' })
  regenerateRecoveryCodes(
    @Arg('code', () => String, { description: 'A current 6-digit TOTP code (not a recovery code)' }) code: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<string[]> {
    return twoFactor(ctx).regenerateRecoveryCodes(ctx.em, user, code, requestMeta(ctx));
  }
}
