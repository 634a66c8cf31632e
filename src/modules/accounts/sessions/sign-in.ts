import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../../../entities';
import { AppError, unauthenticated } from '../../../infra/errors';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import { accountOfCaller } from '../account-of-caller';
import { limitLength, MAX_PASSWORD_INPUT, MAX_TOKEN_INPUT } from '../input-limits';
import type { LoginGuard, SignInClient } from '../limits/login-guard';
import { normalizeEmail } from '../mail/email-address';
import { hashPassword, needsRehash, verifyPasswordOrDummy } from '../passwords/password-hash';
import { MAX_DEVICE_TOKEN_INPUT, type DeviceTokens } from '../tokens/device-tokens';
import type { JwtService } from '../tokens/jwt';
import type { SecondFactor } from '../two-factor/second-factor';
import { signedInFrom } from './auth-sessions.repository';
import type { AuthResult, SessionIssuer } from './session-issuer';

/** An IP the account signed in from within this many days is the owner's, for the per-account sign-in budget. */
const KNOWN_IP_DAYS = 30;

export interface SignInDeps {
  jwt: JwtService;
  devices: DeviceTokens;
  /** Sign-in limits per client lane and per account. */
  loginGuard: LoginGuard;
  issuer: SessionIssuer;
  secondFactor: SecondFactor;
  audit: AuditWriter;
  allowUnverifiedLogin: boolean;
  now: () => Date;
}

const invalidCredentials = () => unauthenticated('Invalid email or password', { reason: 'INVALID_CREDENTIALS' });
const disabled = () => new AppError('FORBIDDEN', 'This account is disabled', { reason: 'USER_DISABLED' });

/** Signing in: the password step, and the second step when 2FA is on. */
export class SignIn {
  constructor(private readonly deps: SignInDeps) {}

  /**
   * Unknown email and wrong password: the same error after the same argon2 work. Guessing is
   * limited per client (LoginGuard): a valid device token or an IP the account signed in from keeps
   * the owner out of the budget strangers share. The password is checked before disabled or
   * unverified are told, so those tell only someone who knows the password.
   */
  async login(
    em: EntityManager,
    emailInput: string,
    passwordInput: string,
    meta: RequestMeta,
    deviceToken?: string | null,
  ): Promise<AuthResult> {
    const { loginGuard, audit } = this.deps;
    limitLength(emailInput, 'email', 1024);
    limitLength(passwordInput, 'password', MAX_PASSWORD_INPUT);
    if (deviceToken != null) limitLength(deviceToken, 'deviceToken', MAX_DEVICE_TOKEN_INPUT);
    const email = normalizeEmail(emailInput);
    const user = await em.findOne(User, { email });
    const client: SignInClient = {
      account: `email:${email}`,
      ip: meta.ip || 'unknown',
      deviceId: await this.deps.devices.deviceOf(user, deviceToken),
      knownIp: () => this.knownIp(em, email, meta.ip),
    };
    await loginGuard.admit(client);
    const ok = await verifyPasswordOrDummy(user?.passwordHash, passwordInput);
    if (!user || !ok) {
      await loginGuard.failed(client);
      await audit(em, AuditAction.SIGN_IN_FAILED, {
        userId: user?.id,
        success: false,
        meta,
        details: { reason: 'INVALID_CREDENTIALS', knownDevice: !!client.deviceId },
      });
      throw invalidCredentials();
    }
    await loginGuard.succeeded(client);
    const refuse = async (reason: string, error: AppError) => {
      await audit(em, AuditAction.SIGN_IN_FAILED, { userId: user.id, success: false, meta, details: { reason } });
      return error;
    };
    if (user.disabledAt) throw await refuse('USER_DISABLED', disabled());
    if (!user.emailVerifiedAt && !this.deps.allowUnverifiedLogin)
      throw await refuse(
        'EMAIL_NOT_VERIFIED',
        new AppError('FORBIDDEN', 'Confirm your email address first (see the mail we sent you)', {
          reason: 'EMAIL_NOT_VERIFIED',
        }),
      );
    if (needsRehash(user.passwordHash)) user.passwordHash = await hashPassword(passwordInput);
    if (await this.deps.secondFactor.enabled(em, user.id)) {
      await em.flush();
      const challengeToken = await this.deps.jwt.signChallengeToken({
        sub: user.id,
        did: client.deviceId ?? undefined,
      });
      return { twoFactorRequired: true, challengeToken };
    }
    return this.deps.issuer.start(em, user, meta, client.deviceId);
  }

  /** Second step of a sign-in with 2FA: a TOTP code (once per time step) or an unused recovery code. */
  async verifyTwoFactor(
    em: EntityManager,
    challengeToken: string,
    code: string,
    meta: RequestMeta,
  ): Promise<AuthResult> {
    limitLength(challengeToken, 'challengeToken', MAX_TOKEN_INPUT);
    const { sub, did } = await this.deps.jwt.verifyChallengeToken(challengeToken);
    const user = await accountOfCaller(em, sub);
    if (user.disabledAt) throw disabled();
    const tf = await this.deps.secondFactor.enabled(em, user.id);
    if (!tf)
      throw unauthenticated('Two-factor authentication is not on for this account', {
        reason: 'TWO_FACTOR_NOT_ENABLED',
      });
    await this.deps.secondFactor.check(em, user, tf, code, meta, {
      allowRecovery: true,
      fail: (reason, message) => unauthenticated(message, { reason }),
    });
    return this.deps.issuer.start(em, user, meta, did);
  }

  private knownIp(em: EntityManager, email: string, ip: string): Promise<boolean> {
    if (!ip) return Promise.resolve(false);
    return signedInFrom(em, email, ip, new Date(this.deps.now().getTime() - KNOWN_IP_DAYS * 86_400_000));
  }
}
