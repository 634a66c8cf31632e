import { Arg, Authorized, Ctx, Int, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import { Public } from '../../../schema/access';
import type { AppContext, AuthUser } from '../../../schema/context';
import { CurrentUser } from '../../../schema/current-user';
import { requestMeta } from '../../audit';
import { accountFromChallenge, RateLimit } from '../limits/rate-limit-middleware';
import type { AuthResult } from './session-issuer';
import { AuthPayload } from './sessions.types';

const payload = (r: AuthResult): AuthPayload => r as AuthPayload;

/** Signing in and out (docs/auth.md): each operation a rate limit, an access rule and one call. */
@Resolver()
export class SessionsResolver {
  @Public()
  // Per IP here; per account+IP pair, device and account in LoginGuard (it needs to know the client).
  @UseMiddleware(RateLimit('login'))
  @Mutation(() => AuthPayload, {
    description:
      'First sign-in step: tokens, or twoFactorRequired and a challengeToken when 2FA is on. Rate limited (docs/auth.md)',
  })
  async login(
    @Arg('email', () => String, { description: 'Sign-in address, any case' }) email: string,
    @Arg('password', () => String, { description: 'The account password' }) password: string,
    @Arg('deviceToken', () => String, {
      nullable: true,
      description: 'The deviceToken of an earlier sign-in to this account, if the client kept one',
    })
    deviceToken: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return payload(await ctx.services.auth.signIn.login(ctx.em, email, password, requestMeta(ctx), deviceToken));
  }

  @Public()
  @UseMiddleware(RateLimit('twoFactor', accountFromChallenge))
  @Mutation(() => AuthPayload, { description: 'Second sign-in step: a TOTP code or a recovery code' })
  async verifyTwoFactor(
    @Arg('challengeToken', () => String, { description: 'From login’s answer; valid 5 minutes' })
    challengeToken: string,
    @Arg('code', () => String, {
      description: 'A 6-digit TOTP code, or a recovery code (xxxx-xxxx-xxxx-xxxx; each works once)',
    })
    code: string,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return payload(await ctx.services.auth.signIn.verifyTwoFactor(ctx.em, challengeToken, code, requestMeta(ctx)));
  }

  @Public()
  @UseMiddleware(RateLimit('refresh'))
  @Mutation(() => AuthPayload, { description: 'New access and refresh tokens; the refresh token given stops working' })
  async refreshSession(
    @Arg('refreshToken', () => String, {
      description: 'The latest refresh token of the session; using an older one again ends the session',
    })
    refreshToken: string,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return payload(await ctx.services.auth.sessions.refresh(ctx.em, refreshToken, requestMeta(ctx)));
  }

  @Public()
  @UseMiddleware(RateLimit('refresh'))
  @Mutation(() => Boolean, { description: 'Ends the session of this refresh token' })
  logout(
    @Arg('refreshToken', () => String, { description: 'A refresh token of the session to end; true even when unknown' })
    refreshToken: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return ctx.services.auth.sessions.logout(ctx.em, refreshToken, requestMeta(ctx));
  }

  @Authorized()
  @Mutation(() => Int, { description: 'Ends every session of the caller, this one included; returns how many' })
  logoutAllSessions(@CurrentUser() user: AuthUser, @Ctx() ctx: AppContext): Promise<number> {
    return ctx.services.auth.sessions.logoutAll(ctx.em, user, requestMeta(ctx));
  }
}
