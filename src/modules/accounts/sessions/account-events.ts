import type { Role } from '../../../entities';

/** Sessions ended: subscription sockets of these sessions must close. */
export interface SessionsRevokedEvent {
  userId: string;
  /** One session; absent = every session of the user ... */
  sessionId?: string;
  /** ... except this one (changePassword keeps the caller signed in). */
  exceptSessionId?: string;
  reason: string;
}

/** A user's role changed: their subscription sockets are closed, so they reconnect with the new role. */
export interface RoleChangedEvent {
  userId: string;
  role: Role;
}

type Listener<E> = (e: E) => void;

/**
 * What the accounts module tells the rest of the process (the WebSocket server closes sockets on
 * them; session-events.ts carries them to the other processes). A listener's failure is logged.
 */
export class AccountEvents {
  private readonly revoked: Listener<SessionsRevokedEvent>[] = [];
  private readonly roleChanged: Listener<RoleChangedEvent>[] = [];

  constructor(private readonly logger: { warn(o: object, m?: string): void }) {}

  onSessionsRevoked(listener: Listener<SessionsRevokedEvent>): void {
    this.revoked.push(listener);
  }

  onRoleChanged(listener: Listener<RoleChangedEvent>): void {
    this.roleChanged.push(listener);
  }

  sessionsRevoked(e: SessionsRevokedEvent): void {
    this.emit(this.revoked, e, 'session revocation');
  }

  roleChangedTo(e: RoleChangedEvent): void {
    this.emit(this.roleChanged, e, 'role change');
  }

  private emit<E>(listeners: Listener<E>[], e: E, what: string): void {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.warn({ err }, `${what} listener failed`);
      }
    }
  }
}
