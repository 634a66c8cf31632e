import type { EntityManager } from '@mikro-orm/postgresql';
import { RefreshToken } from '../../../entities';
import { unauthenticated } from '../../../infra/errors';
import type { AuthUser } from '../../../schema/context';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import { MAX_TOKEN_INPUT } from '../input-limits';
import type { EmailLinks } from '../mail/email-links';
import { hashToken, looksLikeToken } from '../tokens/random-tokens';
import type { AuthResult, SessionIssuer } from './session-issuer';
import type { SessionRevocation } from './session-revocation';

export interface SessionsDeps {
  issuer: SessionIssuer;
  revocation: SessionRevocation;
  links: EmailLinks;
  audit: AuditWriter;
  now: () => Date;
}

const isRefreshToken = (t: unknown): t is string =>
  typeof t === 'string' && t.length <= MAX_TOKEN_INPUT && looksLikeToken(t);

/** A signed-in session's life: refresh-token rotation and signing out. */
export class Sessions {
  constructor(private readonly deps: SessionsDeps) {}

  /**
   * Exchanges a refresh token for new tokens; the old one stops working. Presenting a token that was
   * already exchanged means it was copied: the whole session (family) is revoked.
   */
  async refresh(em: EntityManager, refreshToken: string, meta: RequestMeta): Promise<AuthResult> {
    const { now } = this.deps;
    const invalid = (reason: string, message = 'The refresh token is not valid') =>
      unauthenticated(message, { reason });
    if (!isRefreshToken(refreshToken)) throw invalid('TOKEN_INVALID');
    const row = await em.findOne(
      RefreshToken,
      { tokenHash: hashToken(refreshToken) },
      { populate: ['session', 'session.user'] },
    );
    if (!row) throw invalid('TOKEN_INVALID');
    const session = row.session;
    const user = session.user;
    if (session.revokedAt) throw invalid('SESSION_REVOKED', 'This session has ended; sign in again');
    const reuse = async () => {
      await this.deps.revocation.revoke(em, user.id, 'REFRESH_TOKEN_REUSED', { sessionId: session.id });
      await this.deps.audit(em, AuditAction.REFRESH_TOKEN_REUSED, {
        userId: user.id,
        success: false,
        meta,
        details: { sessionId: session.id },
      });
      return invalid('REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session has been ended');
    };
    if (row.rotatedAt) throw await reuse();
    if (row.expiresAt.getTime() <= now().getTime())
      throw invalid('TOKEN_EXPIRED', 'The refresh token has expired; sign in again');
    if (user.disabledAt) throw invalid('USER_DISABLED', 'This account is disabled');
    const claimed = await em.nativeUpdate(RefreshToken, { id: row.id, rotatedAt: null }, { rotatedAt: now() });
    if (claimed !== 1) throw await reuse();
    return this.deps.issuer.rotate(em, session);
  }

  /** Ends the session of this refresh token. True whether or not the token was known (nothing to learn). */
  async logout(em: EntityManager, refreshToken: string, meta: RequestMeta): Promise<boolean> {
    if (!isRefreshToken(refreshToken)) return true;
    const row = await em.findOne(RefreshToken, { tokenHash: hashToken(refreshToken) }, { populate: ['session'] });
    if (row && !row.session.revokedAt) {
      const userId = row.session.user.id;
      await this.deps.revocation.revoke(em, userId, 'LOGOUT', { sessionId: row.session.id });
      await this.deps.audit(em, AuditAction.LOGOUT, { userId, success: true, meta });
    }
    return true;
  }

  /** Ends every session of the caller, this one included (and their unused reset links); returns how many. */
  async logoutAll(em: EntityManager, caller: AuthUser, meta: RequestMeta): Promise<number> {
    const n = await this.deps.revocation.revoke(em, caller.id, 'LOGOUT_ALL');
    await this.deps.links.cancelResetLinks(em, caller.id);
    await this.deps.audit(em, AuditAction.LOGOUT_ALL, {
      userId: caller.id,
      success: true,
      meta,
      details: { sessions: n },
    });
    return n;
  }
}
