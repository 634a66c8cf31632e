import type { EntityManager } from '@mikro-orm/postgresql';
import { AuthSession } from '../../../entities';
import type { AccountEvents } from './account-events';

export interface RevokeScope {
  /** Only this session ... */
  sessionId?: string;
  /** ... or every one but this. */
  exceptSessionId?: string;
}

/** Ends sessions (logout, password change or reset, disabling, refresh-token reuse) and tells the sockets. */
export class SessionRevocation {
  constructor(
    private readonly events: AccountEvents,
    private readonly now: () => Date,
  ) {}

  /** Ends sessions in the database only; inside a transaction, call `announce` after the commit. */
  mark(em: EntityManager, userId: string, reason: string, scope: RevokeScope = {}): Promise<number> {
    const where: Record<string, unknown> = { user: userId, revokedAt: null };
    if (scope.sessionId) where.id = scope.sessionId;
    if (scope.exceptSessionId) where.id = { $ne: scope.exceptSessionId };
    return em.nativeUpdate(AuthSession, where, { revokedAt: this.now(), revokedReason: reason });
  }

  /** Closes the subscription sockets of sessions ended by `mark`. */
  announce(userId: string, reason: string, scope: RevokeScope = {}): void {
    this.events.sessionsRevoked({ userId, reason, ...scope });
  }

  /** Ends sessions and closes their sockets (outside a transaction). */
  async revoke(em: EntityManager, userId: string, reason: string, scope: RevokeScope = {}): Promise<number> {
    const n = await this.mark(em, userId, reason, scope);
    this.announce(userId, reason, scope);
    return n;
  }
}
