import type { EntityManager } from '@mikro-orm/postgresql';
import { EmailTokenPurpose, Role, User } from '../../../entities';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import type { AfterAnswer } from '../after-answer';
import { limitLength, MAX_NAME_LENGTH, MAX_PASSWORD_INPUT } from '../input-limits';
import { parseEmail } from '../mail/email-address';
import type { EmailLinks } from '../mail/email-links';
import { accountExistsEmail, verificationEmail } from '../mail/mail-templates';
import { hashPassword } from '../passwords/password-hash';
import { assertAcceptablePassword } from '../passwords/password-policy';

export interface RegistrationDeps {
  links: EmailLinks;
  afterAnswer: AfterAnswer;
  audit: AuditWriter;
  publicUrl: string;
  emailVerificationTtlHours: number;
  now: () => Date;
}

/** New accounts and their email verification. */
export class Registration {
  constructor(private readonly deps: RegistrationDeps) {}

  /**
   * Answers the same for a taken address as for a new one: the same User shape (a fresh id,
   * emailVerified false), after the same argon2 hash and the same single insert, whose unique index
   * decides (between two racing registrations too). The rest happens after the answer: a new
   * account gets its verification link; the owner of a taken address gets a notice instead
   * (or, unverified, a new verification link). Policy and address errors are answered as before.
   */
  async register(
    em: EntityManager,
    input: { email: string; password: string; name?: string | null },
    meta: RequestMeta,
  ): Promise<User> {
    const email = parseEmail(input.email);
    limitLength(input.password, 'password', MAX_PASSWORD_INPUT);
    const name = input.name?.trim() ? limitLength(input.name.trim(), 'name', MAX_NAME_LENGTH) : null;
    const password = assertAcceptablePassword(input.password, { email });
    const user = new User();
    user.email = email;
    user.name = name;
    user.role = Role.CLINICIAN;
    user.passwordHash = await hashPassword(password);
    user.createdAt = user.updatedAt = this.deps.now();
    const { afterAnswer } = this.deps;
    if (await this.insertUnlessTaken(em, user)) afterAnswer.run('registration', (bg) => this.welcome(bg, user, meta));
    else afterAnswer.run('registration of a taken address', (bg) => this.warnOwner(bg, email, meta));
    return user;
  }

  async verifyEmail(em: EntityManager, token: string, meta: RequestMeta): Promise<User> {
    const row = await this.deps.links.consume(em, token, EmailTokenPurpose.VERIFY_EMAIL);
    const user = row.user;
    if (!user.emailVerifiedAt) {
      user.emailVerifiedAt = this.deps.now();
      await em.flush();
    }
    await this.deps.audit(em, AuditAction.EMAIL_VERIFIED, { userId: user.id, success: true, meta });
    return user;
  }

  /** Same answer, after the same work, whether or not the account exists or is verified already. */
  async resendVerificationEmail(_em: EntityManager, emailInput: string): Promise<boolean> {
    const email = parseEmail(emailInput);
    this.deps.afterAnswer.run('verification mail', async (bg) => {
      const user = await bg.findOne(User, { email });
      if (user && !user.emailVerifiedAt && !user.disabledAt) await this.mailVerificationLink(bg, user);
    });
    return true;
  }

  /** One INSERT ... ON CONFLICT (email) DO NOTHING: true when the row went in. */
  private async insertUnlessTaken(em: EntityManager, user: User): Promise<boolean> {
    const { email, name, role, plan, passwordHash, id, createdAt, updatedAt } = user;
    const res = await em
      .createQueryBuilder(User)
      .insert({ id, email, name, role, plan, passwordHash, createdAt, updatedAt })
      .onConflict('email')
      .ignore()
      .execute('run');
    return res.affectedRows === 1;
  }

  private async welcome(em: EntityManager, user: User, meta: RequestMeta): Promise<void> {
    await this.mailVerificationLink(em, user);
    await this.deps.audit(em, AuditAction.REGISTERED, { userId: user.id, success: true, meta });
  }

  private async warnOwner(em: EntityManager, email: string, meta: RequestMeta): Promise<void> {
    const owner = await em.findOne(User, { email });
    if (!owner) return;
    if (!owner.disabledAt) {
      // An owner who never verified may have lost the first mail: a new link helps more than a notice.
      if (owner.emailVerifiedAt)
        this.deps.afterAnswer.mail(
          accountExistsEmail({ to: owner.email, name: owner.name, publicUrl: this.deps.publicUrl }),
        );
      else await this.mailVerificationLink(em, owner);
    }
    await this.deps.audit(em, AuditAction.REGISTRATION_EMAIL_TAKEN, { userId: owner.id, success: false, meta });
  }

  /** A new verification link (replacing older ones), mailed. */
  private async mailVerificationLink(em: EntityManager, user: User): Promise<void> {
    const { emailVerificationTtlHours: ttlHours, publicUrl } = this.deps;
    const token = await this.deps.links.issue(em, user.id, EmailTokenPurpose.VERIFY_EMAIL, ttlHours * 3_600_000);
    this.deps.afterAnswer.mail(verificationEmail({ to: user.email, name: user.name, publicUrl, token, ttlHours }));
  }
}
