import type { EntityManager } from '@mikro-orm/postgresql';
import { Plan, Role, TwoFactor, User } from '../../../entities';
import { badInput, conflict, notFound } from '../../../infra/errors';
import { AuditAction, type AuditWriter } from '../../audit';
import { MAX_NAME_LENGTH } from '../input-limits';
import { parseEmail } from '../mail/email-address';
import type { EmailLinks } from '../mail/email-links';
import { hashPassword } from '../passwords/password-hash';
import { assertAcceptablePassword } from '../passwords/password-policy';
import type { AccountEvents } from '../sessions/account-events';
import type { SessionRevocation } from '../sessions/session-revocation';
import type { SecondFactor } from '../two-factor/second-factor';

export interface UserAdminDeps {
  revocation: SessionRevocation;
  links: EmailLinks;
  secondFactor: SecondFactor;
  events: AccountEvents;
  audit: AuditWriter;
  now: () => Date;
}

/**
 * What admins do to accounts. The admin mutations are audited by their resolvers (`@Audited`);
 * `createAdmin` (start-up, CLI) audits itself.
 */
export class UserAdmin {
  constructor(private readonly deps: UserAdminDeps) {}

  /** The account `userId` names; NOT_FOUND for an unknown id, one that is not an id, or a deleted account. */
  async find(em: EntityManager, userId: string): Promise<User> {
    const user = /^[0-9a-f-]{36}$/i.test(userId) ? await em.findOne(User, { id: userId }) : null;
    if (!user || user.deletedAt) throw notFound('User');
    return user;
  }

  /** A new plan: the monthly quotas follow at the next check (they read the plan each time). */
  async setPlan(em: EntityManager, userId: string, plan: Plan): Promise<User> {
    const user = await this.find(em, userId);
    if (!Object.values(Plan).includes(plan)) throw badInput('plan', 'Unknown plan');
    if (user.plan !== plan) {
      user.plan = plan;
      await em.flush();
    }
    return user;
  }

  /** The display name, trimmed; null or blank clears it. */
  async setName(em: EntityManager, userId: string, name: string | null): Promise<User> {
    const clean = cleanName(name, 'name');
    const user = await this.find(em, userId);
    if ((user.name ?? null) !== clean) {
      user.name = clean;
      await em.flush();
    }
    return user;
  }

  /** Whether the account has 2FA (enrolling or on). */
  async hasTwoFactor(em: EntityManager, userId: string): Promise<boolean> {
    return (await em.count(TwoFactor, { user: (await this.find(em, userId)).id })) > 0;
  }

  /** A new role; the user's sockets close so they reconnect with it. The last active admin keeps theirs. */
  async setRole(em: EntityManager, userId: string, role: Role): Promise<User> {
    const user = await this.find(em, userId);
    if (user.role === role) return user;
    if (role !== Role.ADMIN) await this.assertNotLastAdmin(em, user);
    user.role = role;
    await em.flush();
    this.deps.events.roleChangedTo({ userId: user.id, role });
    return user;
  }

  /** Disabling ends every session of the user at once (and their unused reset links). */
  async setDisabled(em: EntityManager, userId: string, disabled: boolean): Promise<User> {
    const user = await this.find(em, userId);
    if (disabled === !!user.disabledAt) return user;
    if (disabled) await this.assertNotLastAdmin(em, user);
    user.disabledAt = disabled ? this.deps.now() : null;
    await em.flush();
    if (disabled) {
      await this.deps.revocation.revoke(em, user.id, 'USER_DISABLED');
      await this.deps.links.cancelResetLinks(em, user.id);
    }
    return user;
  }

  /** For a user who lost both phone and recovery codes (after checking who they are out of band). */
  async resetTwoFactor(em: EntityManager, userId: string): Promise<User> {
    const user = await this.find(em, userId);
    await this.deps.secondFactor.remove(em, user.id);
    return user;
  }

  /**
   * The first admin (ADMIN_EMAIL/ADMIN_PASSWORD at start, or `dermagraph create-admin`). With
   * `onlyIfNoAdmin`, does nothing once any admin exists, so restarts never recreate or overwrite one.
   */
  async createAdmin(
    em: EntityManager,
    input: { email: string; password: string; name?: string | null },
    opts: { onlyIfNoAdmin?: boolean } = {},
  ): Promise<User | null> {
    if (opts.onlyIfNoAdmin && (await em.count(User, { role: Role.ADMIN }))) return null;
    const { email, password } = acceptableAdminInput(input);
    let user = await em.findOne(User, { email });
    if (user) {
      if (user.role === Role.ADMIN) throw conflict(`${email} is already an admin`, { field: 'email' });
      user.role = Role.ADMIN;
    } else {
      user = new User();
      user.email = email;
      user.name = input.name ?? null;
      user.role = Role.ADMIN;
      user.passwordHash = await hashPassword(password);
      em.persist(user);
    }
    user.emailVerifiedAt ??= this.deps.now();
    await em.flush();
    await this.deps.audit(em, AuditAction.ADMIN_CREATED, { userId: user.id, success: true });
    return user;
  }

  /** CONFLICT (LAST_ADMIN) when `user` is the only enabled admin: demoting, disabling or deleting it would lock admins out. */
  async assertNotLastAdmin(em: EntityManager, user: User): Promise<void> {
    if (user.role !== Role.ADMIN || user.disabledAt) return;
    const admins = await em.count(User, { role: Role.ADMIN, disabledAt: null });
    if (admins <= 1) throw conflict('This is the last active admin', { reason: 'LAST_ADMIN' });
  }
}

/** A display name as typed: trimmed, at most MAX_NAME_LENGTH characters, no control characters; blank is null. */
export function cleanName(name: unknown, field: string): string | null {
  if (name === null || name === undefined) return null;
  if (typeof name !== 'string') throw badInput(field, `${field} must be a string`);
  const v = name.trim();
  if (v.length > MAX_NAME_LENGTH)
    throw badInput(field, `${field} must be at most ${MAX_NAME_LENGTH} characters`, { reason: 'TOO_LONG' });
  // A name is shown in mail and pages: line breaks and other control characters have no place in it.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw badInput(field, `${field} must not contain control characters`);
  return v.length ? v : null;
}

/**
 * An admin's address and password as the policy accepts them (BAD_USER_INPUT naming ADMIN_EMAIL or ADMIN_PASSWORD
 * otherwise). Pure: `dermagraph create-admin` asks it before it opens the database.
 */
export function acceptableAdminInput(input: { email: string; password: string }): { email: string; password: string } {
  const email = parseEmail(input.email, 'ADMIN_EMAIL');
  return { email, password: assertAcceptablePassword(input.password, { email }, 'ADMIN_PASSWORD') };
}
