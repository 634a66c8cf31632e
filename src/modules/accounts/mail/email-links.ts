import type { EntityManager } from '@mikro-orm/postgresql';
import { EmailToken, EmailTokenPurpose, User } from '../../../entities';
import { badInput, type AppError } from '../../../infra/errors';
import { MAX_TOKEN_INPUT } from '../input-limits';
import { generateToken, hashToken, looksLikeToken } from '../tokens/random-tokens';

export type EmailLinkFailure = 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_USED';

const MESSAGES: Record<EmailLinkFailure, string> = {
  TOKEN_INVALID: 'This link is not valid',
  TOKEN_EXPIRED: 'This link has expired; ask for a new one',
  TOKEN_USED: 'This link has already been used',
};

/** A mailed token that cannot be used: which of the three reasons, on the `token` field. */
export function emailLinkError(reason: EmailLinkFailure): AppError {
  return badInput('token', MESSAGES[reason], { reason });
}

/** Whether `token` can be a mailed token at all (checked before any database work). */
export function looksLikeLinkToken(token: unknown): token is string {
  return typeof token === 'string' && token.length <= MAX_TOKEN_INPUT && looksLikeToken(token);
}

/**
 * The tokens of mailed links (email verification, password reset): stored as hashes, used once,
 * each kind replacing the older unused ones of a user.
 */
export class EmailLinks {
  constructor(private readonly now: () => Date) {}

  /** A new token of `purpose` for the user, valid `ttlMs`; the user's older unused ones of that kind stop working. */
  async issue(em: EntityManager, userId: string, purpose: EmailTokenPurpose, ttlMs: number): Promise<string> {
    await em.nativeDelete(EmailToken, { user: userId, purpose, usedAt: null });
    const token = generateToken();
    const row = new EmailToken();
    row.user = em.getReference(User, userId);
    row.purpose = purpose;
    row.tokenHash = hashToken(token);
    row.expiresAt = new Date(this.now().getTime() + ttlMs);
    await em.persistAndFlush(row);
    return token;
  }

  /** The unused row of `token`, with its user, or null (no database work for a malformed token). */
  findPending(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<EmailToken | null> {
    if (!looksLikeLinkToken(token)) return Promise.resolve(null);
    return em.findOne(EmailToken, { tokenHash: hashToken(token), purpose }, { populate: ['user'] });
  }

  /** Finds a mailed token and marks it used, once: a conditional update decides between concurrent uses. */
  async consume(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<EmailToken> {
    if (!looksLikeLinkToken(token)) throw emailLinkError('TOKEN_INVALID');
    const row = await this.findPending(em, token, purpose);
    if (!row) throw emailLinkError('TOKEN_INVALID');
    if (row.usedAt) throw emailLinkError('TOKEN_USED');
    if (row.expiresAt.getTime() <= this.now().getTime()) throw emailLinkError('TOKEN_EXPIRED');
    const claimed = await em.nativeUpdate(EmailToken, { id: row.id, usedAt: null }, { usedAt: this.now() });
    if (claimed !== 1) throw emailLinkError('TOKEN_USED');
    return row;
  }

  /**
   * Outstanding reset links stop working: after a reset, a password change, "sign out everywhere"
   * or disabling, a link mailed before must not set a password (it answers TOKEN_INVALID).
   */
  async cancelResetLinks(em: EntityManager, userId: string): Promise<void> {
    await em.nativeDelete(EmailToken, { user: userId, purpose: EmailTokenPurpose.RESET_PASSWORD, usedAt: null });
  }
}
