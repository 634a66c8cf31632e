import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, unauthenticated } from '../../../infra/errors';
import type { AuthUser } from '../../../schema/context';
import { bearerToken, jwtError, type JwtService } from '../tokens/jwt';
import { assertOutsideTransaction } from '../transaction-guard';
import { sessionState } from './auth-sessions.repository';

/** 401 over HTTP: the client must sign in (again). */
const refused = (message: string, reason: unknown) => unauthenticated(message, { reason, http: { status: 401 } });

/** Access tokens -> the caller, for every request and socket; a token of an ended session or disabled account is refused. */
export class Authentication {
  constructor(
    private readonly jwt: JwtService,
    /** A fresh EntityManager: authentication runs before (and outside) a request's. */
    private readonly forkEm: () => EntityManager,
  ) {}

  /**
   * `Authorization` header (or graphql-ws connectionParams) -> the caller. No header: anonymous.
   * A bad, expired or revoked token is an error, never silently anonymous.
   */
  async authenticate(authorization: string | undefined): Promise<AuthUser | null> {
    if (authorization === undefined || authorization === '') return null;
    const fromJwt = (e: AppError) => refused(e.message, e.extensions.reason);
    const token = bearerToken(authorization);
    if (!token) throw fromJwt(jwtError('TOKEN_INVALID'));
    let claims;
    try {
      claims = await this.jwt.verifyAccessToken(token);
    } catch (e) {
      throw e instanceof AppError ? fromJwt(e) : e;
    }
    const state = await sessionState(this.em(), claims.sid, claims.sub);
    if (!state || state.revokedAt) throw refused('This session has ended; sign in again', 'SESSION_REVOKED');
    if (state.disabledAt) throw refused('This account is disabled', 'USER_DISABLED');
    return { id: state.userId, email: state.email, role: state.role, sessionId: claims.sid, expiresAt: claims.exp };
  }

  private em(): EntityManager {
    assertOutsideTransaction('authentication');
    return this.forkEm();
  }
}
