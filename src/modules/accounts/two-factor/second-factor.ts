import type { EntityManager } from '@mikro-orm/postgresql';
import { RecoveryCode, TwoFactor, type User } from '../../../entities';
import type { AppError } from '../../../infra/errors';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import { MAX_CODE_INPUT, tooLong } from '../input-limits';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes';
import type { SecretBox } from './secret-box';
import { normalizeTotpCode, verifyTotp } from './totp';

export type CodeFailure = 'INVALID_CODE' | 'TOTP_REPLAYED' | 'RECOVERY_CODE_USED';
const CODE_MESSAGES: Record<CodeFailure, string> = {
  INVALID_CODE: 'The code is not valid',
  TOTP_REPLAYED: 'This code has already been used; wait for the next one',
  RECOVERY_CODE_USED: 'This recovery code has already been used',
};

export interface CheckOptions {
  /** Whether a recovery code is accepted in place of a TOTP code. */
  allowRecovery: boolean;
  /** Builds the error for the caller's situation (signing in vs a signed-in user's request). */
  fail: (reason: CodeFailure, message: string) => AppError;
}

/** A user's second factor: TOTP codes (once per time step) and recovery codes (once each). */
export class SecondFactor {
  constructor(
    private readonly secretBox: SecretBox,
    private readonly audit: AuditWriter,
    private readonly now: () => Date,
  ) {}

  /** The user's 2FA row when 2FA is on. */
  async enabled(em: EntityManager, userId: string): Promise<TwoFactor | null> {
    const tf = await em.findOne(TwoFactor, { user: userId });
    return tf?.enabledAt ? tf : null;
  }

  /** Checks a TOTP code or, where allowed, a recovery code; a failure is audited (TWO_FACTOR_FAILED). */
  async check(
    em: EntityManager,
    user: User,
    tf: TwoFactor,
    code: string,
    meta: RequestMeta,
    opts: CheckOptions,
  ): Promise<'TOTP' | 'RECOVERY_CODE'> {
    const fail = async (reason: CodeFailure) => {
      await this.audit(em, AuditAction.TWO_FACTOR_FAILED, {
        userId: user.id,
        success: false,
        meta,
        details: { reason },
      });
      return opts.fail(reason, CODE_MESSAGES[reason]);
    };
    if (typeof code !== 'string' || code.length > MAX_CODE_INPUT) throw tooLong('code', MAX_CODE_INPUT);
    const totp = normalizeTotpCode(code);
    if (totp) {
      const secret = this.secretBox.decrypt(tf.secretEncrypted, user.id);
      const last = tf.lastUsedStep === null || tf.lastUsedStep === undefined ? null : Number(tf.lastUsedStep);
      const r = await verifyTotp({ secret, code: totp, lastUsedStep: last, now: this.now() });
      if (!r.ok) throw await fail(r.reason === 'REPLAYED' ? 'TOTP_REPLAYED' : 'INVALID_CODE');
      // Claim the step: of two concurrent requests with the same code, one updates the row.
      const claimed = await em.nativeUpdate(
        TwoFactor,
        { id: tf.id, $or: [{ lastUsedStep: null }, { lastUsedStep: { $lt: String(r.timeStep) } }] },
        { lastUsedStep: String(r.timeStep) },
      );
      if (claimed !== 1) throw await fail('TOTP_REPLAYED');
      return 'TOTP';
    }
    if (opts.allowRecovery && normalizeRecoveryCode(code)) {
      const row = await em.findOne(RecoveryCode, { user: user.id, codeHash: hashRecoveryCode(code) });
      if (!row) throw await fail('INVALID_CODE');
      const claimed = row.usedAt
        ? 0
        : await em.nativeUpdate(RecoveryCode, { id: row.id, usedAt: null }, { usedAt: this.now() });
      if (claimed !== 1) throw await fail('RECOVERY_CODE_USED');
      const remaining = await em.count(RecoveryCode, { user: user.id, usedAt: null });
      await this.audit(em, AuditAction.RECOVERY_CODE_USED, {
        userId: user.id,
        success: true,
        meta,
        details: { remaining },
      });
      return 'RECOVERY_CODE';
    }
    throw await fail('INVALID_CODE');
  }

  /** Ten new recovery codes (the old ones stop working), returned in clear this once. */
  async replaceRecoveryCodes(em: EntityManager, user: User): Promise<string[]> {
    await em.nativeDelete(RecoveryCode, { user: user.id });
    const { codes, hashes } = generateRecoveryCodes();
    for (const codeHash of hashes) {
      const row = new RecoveryCode();
      row.user = user;
      row.codeHash = codeHash;
      em.persist(row);
    }
    await em.flush();
    return codes;
  }

  /** Turns 2FA off: the secret and the recovery codes go. Returns whether it was there. */
  async remove(em: EntityManager, userId: string): Promise<boolean> {
    await em.nativeDelete(RecoveryCode, { user: userId });
    return (await em.nativeDelete(TwoFactor, { user: userId })) > 0;
  }
}
