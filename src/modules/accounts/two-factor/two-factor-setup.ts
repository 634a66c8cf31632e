import type { EntityManager } from '@mikro-orm/postgresql';
import { TwoFactor } from '../../../entities';
import { badInput, conflict, type AppError } from '../../../infra/errors';
import type { AuthUser } from '../../../schema/context';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import { accountOfCaller } from '../account-of-caller';
import { limitLength, MAX_PASSWORD_INPUT } from '../input-limits';
import { verifyPassword } from '../passwords/password-hash';
import type { CodeFailure, SecondFactor } from './second-factor';
import type { SecretBox } from './secret-box';
import { generateTotpSecret, totpQrCodeDataUrl, totpUri } from './totp';

export interface TwoFactorEnrollmentResult {
  secret: string;
  otpauthUrl: string;
  qrCodeDataUrl: string;
}

export interface TwoFactorSetupDeps {
  secondFactor: SecondFactor;
  secretBox: SecretBox;
  audit: AuditWriter;
  /** Shown in authenticator apps. */
  totpIssuer: string;
  now: () => Date;
}

/** A wrong code of a signed-in user's request: on the `code` field. */
const badCode = (reason: CodeFailure, message: string): AppError => badInput('code', message, { reason });
const notEnabled = () => conflict('Two-factor authentication is not on', { reason: 'TWO_FACTOR_NOT_ENABLED' });

/** A signed-in user turns TOTP two-factor authentication on and off, and renews recovery codes. */
export class TwoFactorSetup {
  constructor(private readonly deps: TwoFactorSetupDeps) {}

  /** A new secret to scan; 2FA is not on until `confirm` gets a code from it. */
  async begin(em: EntityManager, caller: AuthUser): Promise<TwoFactorEnrollmentResult> {
    const user = await accountOfCaller(em, caller.id);
    let tf = await em.findOne(TwoFactor, { user: user.id });
    if (tf?.enabledAt)
      throw conflict('Two-factor authentication is already on; disable it first', {
        reason: 'TWO_FACTOR_ALREADY_ENABLED',
      });
    const secret = generateTotpSecret();
    if (!tf) {
      tf = new TwoFactor();
      tf.user = user;
      em.persist(tf);
    }
    tf.secretEncrypted = this.deps.secretBox.encrypt(secret, user.id);
    tf.lastUsedStep = null;
    await em.flush();
    const otpauthUrl = totpUri({ secret, account: user.email, issuer: this.deps.totpIssuer });
    return { secret, otpauthUrl, qrCodeDataUrl: await totpQrCodeDataUrl(otpauthUrl) };
  }

  /** Turns 2FA on with a code from the new secret; returns the 10 recovery codes, shown this once. */
  async confirm(em: EntityManager, caller: AuthUser, code: string, meta: RequestMeta): Promise<string[]> {
    const user = await accountOfCaller(em, caller.id);
    const tf = await em.findOne(TwoFactor, { user: user.id });
    if (!tf) throw conflict('Begin two-factor enrolment first', { reason: 'NO_ENROLLMENT' });
    if (tf.enabledAt)
      throw conflict('Two-factor authentication is already on', { reason: 'TWO_FACTOR_ALREADY_ENABLED' });
    await this.deps.secondFactor.check(em, user, tf, code, meta, { allowRecovery: false, fail: badCode });
    tf.enabledAt = this.deps.now();
    await em.flush();
    const codes = await this.deps.secondFactor.replaceRecoveryCodes(em, user);
    await this.deps.audit(em, AuditAction.TWO_FACTOR_ENABLED, { userId: user.id, success: true, meta });
    return codes;
  }

  /** Needs the password and a current code (TOTP or recovery). */
  async disable(
    em: EntityManager,
    caller: AuthUser,
    password: string,
    code: string,
    meta: RequestMeta,
  ): Promise<boolean> {
    limitLength(password, 'password', MAX_PASSWORD_INPUT);
    const user = await accountOfCaller(em, caller.id);
    const tf = await this.deps.secondFactor.enabled(em, user.id);
    if (!tf) throw notEnabled();
    if (!(await verifyPassword(user.passwordHash, password)))
      throw badInput('password', 'The password is not right', { reason: 'WRONG_PASSWORD' });
    await this.deps.secondFactor.check(em, user, tf, code, meta, { allowRecovery: true, fail: badCode });
    await this.deps.secondFactor.remove(em, user.id);
    await this.deps.audit(em, AuditAction.TWO_FACTOR_DISABLED, { userId: user.id, success: true, meta });
    return true;
  }

  /** New recovery codes (the old ones stop working); needs a current TOTP code. */
  async regenerateRecoveryCodes(
    em: EntityManager,
    caller: AuthUser,
    code: string,
    meta: RequestMeta,
  ): Promise<string[]> {
    const user = await accountOfCaller(em, caller.id);
    const tf = await this.deps.secondFactor.enabled(em, user.id);
    if (!tf) throw notEnabled();
    await this.deps.secondFactor.check(em, user, tf, code, meta, { allowRecovery: false, fail: badCode });
    const codes = await this.deps.secondFactor.replaceRecoveryCodes(em, user);
    await this.deps.audit(em, AuditAction.RECOVERY_CODES_REGENERATED, { userId: user.id, success: true, meta });
    return codes;
  }
}
