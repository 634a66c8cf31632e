import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EmailTokenPurpose, Plan, Role, User } from '../../../entities';
import { badInput, conflict, type AppError } from '../../../infra/errors';
import type { AfterAnswer } from '../after-answer';
import { parseEmail } from '../mail/email-address';
import type { EmailLinks } from '../mail/email-links';
import { adminPasswordResetEmail, invitationEmail } from '../mail/mail-templates';
import { hashPassword } from '../passwords/password-hash';
import type { SessionRevocation } from '../sessions/session-revocation';
import { cleanName, type UserAdmin } from './user-admin';

export interface InvitationsDeps {
  admin: UserAdmin;
  links: EmailLinks;
  afterAnswer: AfterAnswer;
  revocation: SessionRevocation;
  publicUrl: string;
  invitationTtlHours: number;
  passwordResetTtlMinutes: number;
  now: () => Date;
}

export interface InviteInput {
  email: string;
  name?: string | null;
  role?: Role | null;
  plan?: Plan | null;
}

/** Which link sendReset mailed: a new invitation (still pending) or a password reset. */
export type SentLink = 'INVITATION' | 'RESET';

const emailTaken = (): AppError =>
  conflict('An account with this email address exists', { field: 'input.email', reason: 'EMAIL_TAKEN' });

/** An invitation is pending until the invitee sets a password through the link (which also verifies the address). */
export const invitationPending = (u: Pick<User, 'invitedAt' | 'emailVerifiedAt'>): boolean =>
  !!u.invitedAt && !u.emailVerifiedAt;

/**
 * Accounts an admin creates for someone else, and reset links an admin has mailed. Both reuse the
 * password-reset tokens: the invitee's link is a RESET_PASSWORD token (with INVITATION_TTL_HOURS)
 * that `resetPassword` and the reset page already serve, so there is one way to set a password by mail.
 */
export class Invitations {
  constructor(private readonly deps: InvitationsDeps) {}

  /**
   * A new account that cannot sign in until its owner chooses a password through the mailed link:
   * its password hash is of 32 random bytes nobody keeps. The row and the token commit together;
   * the mail goes after the commit. A taken address is a CONFLICT (the caller is an admin, who may know).
   */
  async invite(em: EntityManager, input: InviteInput): Promise<User> {
    const email = parseEmail(input.email, 'input.email');
    const name = cleanName(input.name, 'input.name');
    const role = input.role ?? Role.CLINICIAN;
    const plan = input.plan ?? Plan.FREE;
    if (!Object.values(Role).includes(role)) throw badInput('input.role', 'Unknown role');
    if (!Object.values(Plan).includes(plan)) throw badInput('input.plan', 'Unknown plan');
    if (await em.count(User, { email })) throw emailTaken();
    const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));
    const { invitationTtlHours: ttlHours, publicUrl } = this.deps;
    let created: { user: User; token: string };
    try {
      created = await em.transactional(async (tem) => {
        const now = this.deps.now();
        const user = tem.create(User, {
          email,
          name,
          role,
          plan,
          passwordHash,
          invitedAt: now,
          createdAt: now,
          updatedAt: now,
        });
        await tem.flush();
        const token = await this.deps.links.issue(tem, user.id, EmailTokenPurpose.RESET_PASSWORD, ttlHours * 3_600_000);
        return { user, token };
      });
    } catch (err) {
      // Two invitations (or a sign-up) of one address at once: the unique index decides.
      if (err instanceof UniqueConstraintViolationException) throw emailTaken();
      throw err;
    }
    const { user, token } = created;
    this.deps.afterAnswer.mail(invitationEmail({ to: user.email, name: user.name, publicUrl, token, ttlHours }));
    return user;
  }

  /**
   * Mails the account a link to set its password: a new invitation while one is pending, else a
   * reset link (older unused ones stop working). With `signOut`, every session ends now (an
   * account thought compromised); otherwise they end when the link is used. A disabled account gets
   * nothing (CONFLICT USER_DISABLED): enable it first.
   */
  async sendReset(
    em: EntityManager,
    userId: string,
    signOut: boolean,
  ): Promise<{ user: User; link: SentLink; sessionsEnded: number }> {
    const user = await this.deps.admin.find(em, userId);
    if (user.disabledAt) throw conflict('The account is disabled; enable it first', { reason: 'USER_DISABLED' });
    const { links, publicUrl } = this.deps;
    const pending = invitationPending(user);
    let token: string;
    if (pending) {
      const ttlHours = this.deps.invitationTtlHours;
      token = await links.issue(em, user.id, EmailTokenPurpose.RESET_PASSWORD, ttlHours * 3_600_000);
      this.deps.afterAnswer.mail(invitationEmail({ to: user.email, name: user.name, publicUrl, token, ttlHours }));
    } else {
      const ttlMinutes = this.deps.passwordResetTtlMinutes;
      token = await links.issue(em, user.id, EmailTokenPurpose.RESET_PASSWORD, ttlMinutes * 60_000);
      const mail = { to: user.email, name: user.name, publicUrl, token, ttlMinutes, signedOut: signOut };
      this.deps.afterAnswer.mail(adminPasswordResetEmail(mail));
    }
    const sessionsEnded = signOut ? await this.deps.revocation.revoke(em, user.id, 'PASSWORD_RESET') : 0;
    return { user, link: pending ? 'INVITATION' : 'RESET', sessionsEnded };
  }
}
