import { Arg, Authorized, Ctx, ID, Int, Mutation, Resolver, UseMiddleware } from 'type-graphql';
import { Role, User } from '../../entities';
import { Public } from '../../schema/access';
import { AuthPayload, RegisterInput, TwoFactorEnrollment } from './accounts.types';
import { UserType } from './user.types';
import type { AppContext, AuthUser } from '../../schema/context';
import type { AuthResult, RequestMeta } from './auth-service';
import {
  accountFromCaller,
  accountFromChallenge,
  accountFromEmailArg,
  accountFromRegisterInput,
  RateLimit,
} from './rate-limit-middleware';

const meta = (ctx: AppContext): RequestMeta => ({ ip: ctx.ip, userAgent: ctx.userAgent });
const svc = (ctx: AppContext) => ctx.services.auth.auth;
const caller = (ctx: AppContext): AuthUser => ctx.user!; // @Authorized guarantees it
const payload = (r: AuthResult): AuthPayload => r as AuthPayload;

/** The accounts operations (docs/auth.md): thin, each a rate limit, an access rule and one service call. */
@Resolver()
export class AuthResolver {
  @Public()
  @UseMiddleware(RateLimit('register', accountFromRegisterInput))
  @Mutation(() => UserType, {
    description:
      'Creates a CLINICIAN account and mails a verification link. An address that has an account gets the same answer (its owner is mailed instead)',
  })
  register(@Arg('input', () => RegisterInput) input: RegisterInput, @Ctx() ctx: AppContext): Promise<User> {
    return svc(ctx).register(ctx.em, input, meta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('emailVerification'))
  @Mutation(() => UserType, { description: 'Confirms the email address with the token from the link' })
  verifyEmail(@Arg('token', () => String) token: string, @Ctx() ctx: AppContext): Promise<User> {
    return svc(ctx).verifyEmail(ctx.em, token, meta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('emailVerification', accountFromEmailArg))
  @Mutation(() => Boolean, { description: 'Mails a new verification link; true whether or not the account exists' })
  resendVerificationEmail(@Arg('email', () => String) email: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return svc(ctx).resendVerificationEmail(ctx.em, email);
  }

  @Public()
  // Per IP here; per account+IP pair, device and account in LoginGuard (it needs to know the client).
  @UseMiddleware(RateLimit('login'))
  @Mutation(() => AuthPayload)
  async login(
    @Arg('email', () => String) email: string,
    @Arg('password', () => String) password: string,
    @Arg('deviceToken', () => String, {
      nullable: true,
      description: 'The deviceToken of an earlier sign-in to this account, if the client kept one',
    })
    deviceToken: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return payload(await svc(ctx).login(ctx.em, email, password, meta(ctx), deviceToken));
  }

  @Public()
  @UseMiddleware(RateLimit('twoFactor', accountFromChallenge))
  @Mutation(() => AuthPayload, { description: 'Second sign-in step: a TOTP code or a recovery code' })
  async verifyTwoFactor(
    @Arg('challengeToken', () => String) challengeToken: string,
    @Arg('code', () => String) code: string,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return payload(await svc(ctx).verifyTwoFactor(ctx.em, challengeToken, code, meta(ctx)));
  }

  @Public()
  @UseMiddleware(RateLimit('refresh'))
  @Mutation(() => AuthPayload, { description: 'New access and refresh tokens; the refresh token given stops working' })
  async refreshSession(
    @Arg('refreshToken', () => String) refreshToken: string,
    @Ctx() ctx: AppContext,
  ): Promise<AuthPayload> {
    return payload(await svc(ctx).refreshSession(ctx.em, refreshToken, meta(ctx)));
  }

  @Public()
  @UseMiddleware(RateLimit('refresh'))
  @Mutation(() => Boolean, { description: 'Ends the session of this refresh token' })
  logout(@Arg('refreshToken', () => String) refreshToken: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return svc(ctx).logout(ctx.em, refreshToken, meta(ctx));
  }

  @Authorized()
  @Mutation(() => Int, { description: 'Ends every session of the caller, this one included; returns how many' })
  logoutAllSessions(@Ctx() ctx: AppContext): Promise<number> {
    return svc(ctx).logoutAllSessions(ctx.em, caller(ctx), meta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('passwordReset', accountFromEmailArg))
  @Mutation(() => Boolean, { description: 'Mails a reset link when the account exists; the answer is true either way' })
  requestPasswordReset(@Arg('email', () => String) email: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return svc(ctx).requestPasswordReset(ctx.em, email, meta(ctx));
  }

  @Public()
  @UseMiddleware(RateLimit('passwordReset'))
  @Mutation(() => Boolean, {
    description: 'Sets a new password with the token from the link; ends every session; 2FA stays on',
  })
  resetPassword(
    @Arg('token', () => String) token: string,
    @Arg('newPassword', () => String) newPassword: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return svc(ctx).resetPassword(ctx.em, token, newPassword, meta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('account', accountFromCaller))
  @Mutation(() => Boolean, { description: 'Ends the caller’s other sessions' })
  changePassword(
    @Arg('currentPassword', () => String) currentPassword: string,
    @Arg('newPassword', () => String) newPassword: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return svc(ctx).changePassword(ctx.em, caller(ctx), currentPassword, newPassword, meta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('account', accountFromCaller))
  @Mutation(() => TwoFactorEnrollment)
  beginTwoFactorEnrollment(@Ctx() ctx: AppContext): Promise<TwoFactorEnrollment> {
    return svc(ctx).beginTwoFactorEnrollment(ctx.em, caller(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('twoFactor', accountFromCaller))
  @Mutation(() => [String], { description: 'Turns 2FA on; returns 10 recovery codes, shown this once' })
  confirmTwoFactorEnrollment(@Arg('code', () => String) code: string, @Ctx() ctx: AppContext): Promise<string[]> {
    return svc(ctx).confirmTwoFactorEnrollment(ctx.em, caller(ctx), code, meta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('twoFactor', accountFromCaller))
  @Mutation(() => Boolean)
  disableTwoFactor(
    @Arg('password', () => String) password: string,
    @Arg('code', () => String) code: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return svc(ctx).disableTwoFactor(ctx.em, caller(ctx), password, code, meta(ctx));
  }

  @Authorized()
  @UseMiddleware(RateLimit('twoFactor', accountFromCaller))
  @Mutation(() => [String], { description: 'Replaces the recovery codes; needs a current TOTP code' })
  regenerateRecoveryCodes(@Arg('code', () => String) code: string, @Ctx() ctx: AppContext): Promise<string[]> {
    return svc(ctx).regenerateRecoveryCodes(ctx.em, caller(ctx), code, meta(ctx));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType)
  setUserRole(
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => Role) role: Role,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return svc(ctx).setUserRole(ctx.em, caller(ctx), userId, role, meta(ctx));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType, { description: 'Disabling ends every session of the user' })
  setUserDisabled(
    @Arg('userId', () => ID) userId: string,
    @Arg('disabled', () => Boolean) disabled: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<User> {
    return svc(ctx).setUserDisabled(ctx.em, caller(ctx), userId, disabled, meta(ctx));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType, { description: 'Switches 2FA off for a user who lost their device and recovery codes' })
  resetUserTwoFactor(@Arg('userId', () => ID) userId: string, @Ctx() ctx: AppContext): Promise<User> {
    return svc(ctx).resetUserTwoFactor(ctx.em, caller(ctx), userId, meta(ctx));
  }
}
