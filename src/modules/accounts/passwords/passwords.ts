import type { EntityManager } from '@mikro-orm/postgresql';
import { EmailTokenPurpose, User } from '../../../entities';
import { AppError, badInput } from '../../../infra/errors';
import type { AuthUser } from '../../../schema/context';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import { accountOfCaller } from '../account-of-caller';
import type { AfterAnswer } from '../after-answer';
import { limitLength, MAX_PASSWORD_INPUT } from '../input-limits';
import type { LoginGuard } from '../limits/login-guard';
import { parseEmail } from '../mail/email-address';
import { emailLinkError, looksLikeLinkToken, type EmailLinks } from '../mail/email-links';
import { passwordResetEmail } from '../mail/mail-templates';
import type { SessionRevocation } from '../sessions/session-revocation';
import { hashPassword, verifyPassword } from './password-hash';
import { assertAcceptablePassword } from './password-policy';

export interface PasswordsDeps {
  links: EmailLinks;
  afterAnswer: AfterAnswer;
  revocation: SessionRevocation;
  loginGuard: LoginGuard;
  audit: AuditWriter;
  publicUrl: string;
  passwordResetTtlMinutes: number;
  now: () => Date;
}

/** Changing a password, and resetting a forgotten one through a mailed link. */
export class Passwords {
  constructor(private readonly deps: PasswordsDeps) {}

  /** Always true, after the same work for any address: the account is looked up after the answer. */
  async requestReset(_em: EntityManager, emailInput: string, meta: RequestMeta): Promise<boolean> {
    const email = parseEmail(emailInput);
    const { publicUrl, passwordResetTtlMinutes: ttlMinutes } = this.deps;
    this.deps.afterAnswer.run('password reset request', async (bg) => {
      const user = await bg.findOne(User, { email });
      if (!user || user.disabledAt) return;
      const token = await this.deps.links.issue(bg, user.id, EmailTokenPurpose.RESET_PASSWORD, ttlMinutes * 60_000);
      this.deps.afterAnswer.mail(passwordResetEmail({ to: user.email, name: user.name, publicUrl, token, ttlMinutes }));
      await this.deps.audit(bg, AuditAction.PASSWORD_RESET_REQUESTED, { userId: user.id, success: true, meta });
    });
    return true;
  }

  /**
   * Sets the new password, ends every session, keeps 2FA as it is. The policy is checked before the
   * token is spent. Everything, the audit row included, happens in one transaction on one
   * connection; sockets are told after the commit, and a refused link is audited after the rollback.
   */
  async reset(em: EntityManager, token: string, newPassword: string, meta: RequestMeta): Promise<boolean> {
    const { links, revocation, audit } = this.deps;
    limitLength(newPassword, 'newPassword', MAX_PASSWORD_INPUT);
    if (!looksLikeLinkToken(token)) throw emailLinkError('TOKEN_INVALID');
    const pending = await links.findPending(em, token, EmailTokenPurpose.RESET_PASSWORD);
    const password = assertAcceptablePassword(newPassword, { email: pending?.user.email }, 'newPassword');
    const hash = await hashPassword(password);
    let user: User;
    try {
      user = await em.transactional(async (tem) => {
        const row = await links.consume(tem, token, EmailTokenPurpose.RESET_PASSWORD);
        const u = await tem.findOneOrFail(User, { id: row.user.id });
        u.passwordHash = hash;
        // Following the link proves control of the mailbox.
        u.emailVerifiedAt ??= this.deps.now();
        await tem.flush();
        await links.cancelResetLinks(tem, u.id);
        await revocation.mark(tem, u.id, 'PASSWORD_RESET');
        await audit(tem, AuditAction.PASSWORD_RESET, { userId: u.id, success: true, meta });
        return u;
      });
    } catch (err) {
      const reason = err instanceof AppError ? err.extensions.reason : undefined;
      if (pending && reason)
        await audit(em, AuditAction.PASSWORD_RESET, {
          userId: pending.user.id,
          success: false,
          meta,
          details: { reason },
        });
      throw err;
    }
    revocation.announce(user.id, 'PASSWORD_RESET');
    await this.deps.loginGuard.accountRecovered(`email:${user.email}`);
    return true;
  }

  /** Needs the current password; ends the caller's other sessions. */
  async change(
    em: EntityManager,
    caller: AuthUser,
    currentPassword: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<boolean> {
    const { audit } = this.deps;
    limitLength(currentPassword, 'currentPassword', MAX_PASSWORD_INPUT);
    limitLength(newPassword, 'newPassword', MAX_PASSWORD_INPUT);
    const user = await accountOfCaller(em, caller.id);
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await audit(em, AuditAction.PASSWORD_CHANGED, {
        userId: user.id,
        success: false,
        meta,
        details: { reason: 'WRONG_PASSWORD' },
      });
      throw badInput('currentPassword', 'The current password is not right', { reason: 'WRONG_PASSWORD' });
    }
    const password = assertAcceptablePassword(newPassword, { email: user.email }, 'newPassword');
    if (await verifyPassword(user.passwordHash, password))
      throw badInput('newPassword', 'The new password is the same as the current one', { reason: 'SAME_AS_CURRENT' });
    user.passwordHash = await hashPassword(password);
    await em.flush();
    await this.deps.links.cancelResetLinks(em, user.id);
    await this.deps.revocation.revoke(em, user.id, 'PASSWORD_CHANGED', { exceptSessionId: caller.sessionId });
    await audit(em, AuditAction.PASSWORD_CHANGED, { userId: user.id, success: true, meta });
    return true;
  }
}
