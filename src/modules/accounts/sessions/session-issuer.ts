import type { EntityManager } from '@mikro-orm/postgresql';
import { AuthSession, RefreshToken, type User } from '../../../entities';
import { AuditAction, type AuditWriter, type RequestMeta } from '../../audit';
import type { DeviceTokens } from '../tokens/device-tokens';
import type { JwtService } from '../tokens/jwt';
import { generateToken, hashToken } from '../tokens/random-tokens';

export interface AuthResult {
  twoFactorRequired: boolean;
  challengeToken?: string | null;
  accessToken?: string | null;
  refreshToken?: string | null;
  accessTokenExpiresAt?: Date | null;
  user?: User | null;
  /** Given after a complete sign-in; presented with the next login, it marks the owner's known device. */
  deviceToken?: string | null;
}

export interface SessionIssuerDeps {
  jwt: JwtService;
  devices: DeviceTokens;
  audit: AuditWriter;
  refreshTtlDays: number;
  now: () => Date;
}

/** Starts sessions (refresh-token families) and issues their tokens. */
export class SessionIssuer {
  constructor(private readonly deps: SessionIssuerDeps) {}

  /** A new session, its first tokens and a device token (same device id when the client had one). */
  async start(em: EntityManager, user: User, meta: RequestMeta, deviceId?: string | null): Promise<AuthResult> {
    const now = this.deps.now();
    const session = new AuthSession();
    session.user = user;
    session.ip = meta.ip || null;
    session.userAgent = meta.userAgent ? meta.userAgent.slice(0, 512) : null;
    session.lastUsedAt = now;
    const { token, row } = this.refreshToken(session);
    user.lastLoginAt = now;
    em.persist(session);
    em.persist(row);
    await em.flush();
    await this.deps.audit(em, AuditAction.SIGN_IN_SUCCEEDED, {
      userId: user.id,
      success: true,
      meta,
      details: { knownDevice: !!deviceId },
    });
    return {
      ...(await this.tokens(user, session, token)),
      deviceToken: await this.deps.devices.issue(user, deviceId),
    };
  }

  /** The next refresh token of `session` (the caller has claimed the previous one) and a new access token. */
  async rotate(em: EntityManager, session: AuthSession): Promise<AuthResult> {
    const next = this.refreshToken(session);
    session.lastUsedAt = this.deps.now();
    em.persist(next.row);
    await em.flush();
    return this.tokens(session.user, session, next.token);
  }

  private refreshToken(session: AuthSession): { token: string; row: RefreshToken } {
    const token = generateToken();
    const row = new RefreshToken();
    row.session = session;
    row.tokenHash = hashToken(token);
    row.createdAt = this.deps.now();
    row.expiresAt = new Date(this.deps.now().getTime() + this.deps.refreshTtlDays * 86_400_000);
    return { token, row };
  }

  private async tokens(user: User, session: AuthSession, refreshToken: string): Promise<AuthResult> {
    const { jwt } = this.deps;
    const accessToken = await jwt.signAccessToken({ sub: user.id, role: user.role, sid: session.id });
    return {
      twoFactorRequired: false,
      accessToken,
      refreshToken,
      accessTokenExpiresAt: new Date(this.deps.now().getTime() + jwt.accessTtlSeconds * 1000),
      user,
    };
  }
}
