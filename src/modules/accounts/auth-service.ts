import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../infra/errors';
import {
  AuthSession,
  EmailToken,
  EmailTokenPurpose,
  RecoveryCode,
  RefreshToken,
  Role,
  TwoFactor,
  User,
} from '../../entities';
import type { AuthUser } from '../../schema/context';
import { AuditAction, createAuditWriter, type AuditEntry, type AuditWriter, type RequestMeta } from '../audit';
import { parseEmail, normalizeEmail } from './email';
import { bearerToken, jwtError, type JwtService } from './jwt';
import type { Mailer, MailMessage } from './mail';
import { accountExistsEmail, passwordResetEmail, verificationEmail } from './mail-templates';
import { hashPassword, needsRehash, verifyPassword, verifyPasswordOrDummy } from './password-hash';
import { assertAcceptablePassword, PASSWORD_MAX_LENGTH } from './password-policy';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes';
import type { SecretBox } from './secret-box';
import { DeviceTokens, MAX_DEVICE_TOKEN_INPUT } from './device-tokens';
import type { LoginGuard, SignInClient } from './login-guard';
import { generateToken, hashToken, looksLikeToken } from './tokens';
import { assertOutsideTransaction } from './transaction-guard';
import { BackgroundTasks } from './background';
import { generateTotpSecret, normalizeTotpCode, totpQrCodeDataUrl, totpUri, verifyTotp } from './totp';

/** What authentication reads of a session and its user. */
interface SessionState {
  userId: string;
  email: string;
  role: Role;
  disabledAt: Date | null;
  revokedAt: Date | null;
}

/** Until every importer takes them from the audit module. */
export { AuditAction, type RequestMeta } from '../audit';

export interface AuthSettings {
  publicUrl: string;
  allowUnverifiedLogin: boolean;
  emailVerificationTtlHours: number;
  passwordResetTtlMinutes: number;
  refreshTtlDays: number;
  /** Shown in authenticator apps. */
  totpIssuer: string;
}

export interface AuthDeps {
  settings: AuthSettings;
  jwt: JwtService;
  mailer: Mailer;
  /** Sign-in limits per client lane and per account (LoginGuard). */
  loginGuard: LoginGuard;
  secretBox: SecretBox;
  /** A fresh EntityManager for work outside a request's (authentication, background tasks). */
  forkEm: () => EntityManager;
  /** Where work done after the answer runs (a default BackgroundTasks; tests hold its scheduler). */
  background?: BackgroundTasks;
  logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void };
  now?: () => Date;
}

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

export interface TwoFactorEnrollmentResult {
  secret: string;
  otpauthUrl: string;
  qrCodeDataUrl: string;
}

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

/** Long strings are refused before any hashing work (argon2 on a megabyte, SHA-256 on a gigabyte). */
const MAX_PASSWORD_INPUT = PASSWORD_MAX_LENGTH * 4;
const MAX_CODE_INPUT = 64;
const MAX_TOKEN_INPUT = 512;
const MAX_NAME_LENGTH = 200;
/** An IP the account signed in from within this many days is the owner's, for the per-account sign-in budget. */
const KNOWN_IP_DAYS = 30;

function tooLong(field: string, max: number): AppError {
  return new AppError('BAD_USER_INPUT', `${field} must be at most ${max} characters`, { field, reason: 'TOO_LONG' });
}
function limitLength(value: string, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) throw tooLong(field, max);
  return value;
}

const invalidCredentials = () =>
  new AppError('UNAUTHENTICATED', 'Invalid email or password', { reason: 'INVALID_CREDENTIALS' });

/** A mailed token that cannot be used: which of the three reasons, on the `token` field. */
function emailTokenError(reason: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_USED'): AppError {
  const message = {
    TOKEN_INVALID: 'This link is not valid',
    TOKEN_EXPIRED: 'This link has expired; ask for a new one',
    TOKEN_USED: 'This link has already been used',
  }[reason];
  return new AppError('BAD_USER_INPUT', message, { field: 'token', reason });
}

type CodeFailure = 'INVALID_CODE' | 'TOTP_REPLAYED' | 'RECOVERY_CODE_USED';
const CODE_MESSAGES: Record<CodeFailure, string> = {
  INVALID_CODE: 'The code is not valid',
  TOTP_REPLAYED: 'This code has already been used; wait for the next one',
  RECOVERY_CODE_USED: 'This recovery code has already been used',
};

/**
 * Accounts, sessions and second factors. Resolvers stay thin and call this; every dependency comes
 * in through the constructor, and every method takes the request's EntityManager.
 */
export class AuthService {
  private readonly now: () => Date;
  private readonly background: BackgroundTasks;
  private readonly devices: DeviceTokens;
  private readonly writeAudit: AuditWriter;
  private readonly revokeListeners: Array<(e: SessionsRevokedEvent) => void> = [];
  private readonly roleListeners: Array<(e: RoleChangedEvent) => void> = [];

  constructor(private readonly deps: AuthDeps) {
    this.now = deps.now ?? (() => new Date());
    this.background = deps.background ?? new BackgroundTasks(deps.logger);
    this.devices = new DeviceTokens(deps.jwt);
    this.writeAudit = createAuditWriter(deps.logger, this.now);
  }

  get jwt(): JwtService {
    return this.deps.jwt;
  }

  /** Called when sessions end (the WebSocket server closes their sockets). */
  onSessionsRevoked(listener: (e: SessionsRevokedEvent) => void): void {
    this.revokeListeners.push(listener);
  }

  /** Called when a user's role changes (the WebSocket server closes their sockets). */
  onRoleChanged(listener: (e: RoleChangedEvent) => void): void {
    this.roleListeners.push(listener);
  }

  /** Resolves when the work queued after answers (look-ups, mailed links, mail) is done (tests, shutdown). */
  async drainBackground(): Promise<void> {
    await this.background.drain();
  }

  // ---------------------------------------------------------------- helpers

  /** Writes an audit row with the caller's EntityManager (see createAuditWriter). */
  audit(em: EntityManager, action: AuditAction, entry: AuditEntry): Promise<void> {
    return this.writeAudit(em, action, entry);
  }

  /** An EntityManager of its own, for work outside a request's; refused inside a transaction (see transaction-guard). */
  private freshEm(what: string): EntityManager {
    assertOutsideTransaction(what);
    return this.deps.forkEm();
  }

  /** Sends in the background: the answer does not wait for SMTP, and its timing shows nothing. */
  private deliver(message: MailMessage): void {
    this.background.run(`mail: ${message.subject}`, () => this.deps.mailer.send(message));
  }

  /**
   * Account-dependent work of an answer that must not tell whether the account exists: it runs
   * after the answer, on an EntityManager of its own, and its failures are only logged.
   */
  private afterAnswer(label: string, work: (em: EntityManager) => Promise<unknown>): void {
    this.background.run(label, () => work(this.freshEm(label)));
  }

  private emitRevoked(e: SessionsRevokedEvent): void {
    this.emit(this.revokeListeners, e, 'session revocation');
  }

  private emit<E>(listeners: Array<(e: E) => void>, e: E, what: string): void {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.logger.warn({ err: { message: (err as Error).message } }, `${what} listener failed`);
      }
    }
  }

  /** Ends sessions in the database only; inside a transaction, emit the event after the commit. */
  private async markSessionsRevoked(
    em: EntityManager,
    userId: string,
    reason: string,
    opts: { sessionId?: string; exceptSessionId?: string } = {},
  ): Promise<number> {
    const where: Record<string, unknown> = { user: userId, revokedAt: null };
    if (opts.sessionId) where.id = opts.sessionId;
    if (opts.exceptSessionId) where.id = { $ne: opts.exceptSessionId };
    return em.nativeUpdate(AuthSession, where, { revokedAt: this.now(), revokedReason: reason });
  }

  /** Ends sessions and closes their sockets (outside a transaction). */
  private async revokeSessions(
    em: EntityManager,
    userId: string,
    reason: string,
    opts: { sessionId?: string; exceptSessionId?: string } = {},
  ): Promise<number> {
    const n = await this.markSessionsRevoked(em, userId, reason, opts);
    this.emitRevoked({ userId, reason, ...opts });
    return n;
  }

  private newRefreshToken(session: AuthSession): { token: string; row: RefreshToken } {
    const token = generateToken();
    const row = new RefreshToken();
    row.session = session;
    row.tokenHash = hashToken(token);
    row.createdAt = this.now();
    row.expiresAt = new Date(this.now().getTime() + this.deps.settings.refreshTtlDays * 86_400_000);
    return { token, row };
  }

  private async accessPayload(user: User, session: AuthSession, refreshToken: string): Promise<AuthResult> {
    const accessToken = await this.deps.jwt.signAccessToken({ sub: user.id, role: user.role, sid: session.id });
    return {
      twoFactorRequired: false,
      accessToken,
      refreshToken,
      accessTokenExpiresAt: new Date(this.now().getTime() + this.deps.jwt.accessTtlSeconds * 1000),
      user,
    };
  }

  /** A new session (refresh-token family), its first tokens and a device token (same device id when the client had one). */
  private async startSession(
    em: EntityManager,
    user: User,
    meta: RequestMeta,
    deviceId?: string | null,
  ): Promise<AuthResult> {
    const session = new AuthSession();
    session.user = user;
    session.ip = meta.ip || null;
    session.userAgent = meta.userAgent ? meta.userAgent.slice(0, 512) : null;
    session.lastUsedAt = this.now();
    const { token, row } = this.newRefreshToken(session);
    user.lastLoginAt = this.now();
    em.persist(session);
    em.persist(row);
    await em.flush();
    await this.audit(em, AuditAction.SIGN_IN_SUCCEEDED, {
      userId: user.id,
      success: true,
      meta,
      details: { knownDevice: !!deviceId },
    });
    return {
      ...(await this.accessPayload(user, session, token)),
      deviceToken: await this.devices.issue(user, deviceId),
    };
  }

  private async issueEmailToken(
    em: EntityManager,
    userId: string,
    purpose: EmailTokenPurpose,
    ttlMs: number,
  ): Promise<string> {
    // A new link replaces the older unused ones of the same kind.
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

  /**
   * Outstanding reset links stop working: after a reset, a password change, "sign out everywhere"
   * or disabling, a link mailed before must not set a password (it answers TOKEN_INVALID).
   */
  private async cancelResetLinks(em: EntityManager, userId: string): Promise<void> {
    await em.nativeDelete(EmailToken, { user: userId, purpose: EmailTokenPurpose.RESET_PASSWORD, usedAt: null });
  }

  /** Finds a mailed token and marks it used, once: a conditional update decides between concurrent uses. */
  private async consumeEmailToken(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<EmailToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_INPUT || !looksLikeToken(token))
      throw emailTokenError('TOKEN_INVALID');
    const row = await em.findOne(EmailToken, { tokenHash: hashToken(token), purpose }, { populate: ['user'] });
    if (!row) throw emailTokenError('TOKEN_INVALID');
    if (row.usedAt) throw emailTokenError('TOKEN_USED');
    if (row.expiresAt.getTime() <= this.now().getTime()) throw emailTokenError('TOKEN_EXPIRED');
    const claimed = await em.nativeUpdate(EmailToken, { id: row.id, usedAt: null }, { usedAt: this.now() });
    if (claimed !== 1) throw emailTokenError('TOKEN_USED');
    return row;
  }

  private async enabledTwoFactor(em: EntityManager, userId: string): Promise<TwoFactor | null> {
    const tf = await em.findOne(TwoFactor, { user: userId });
    return tf?.enabledAt ? tf : null;
  }

  /**
   * Checks a TOTP code (once per time step) or, where allowed, a recovery code (once each).
   * `fail` builds the error for the caller's situation (signing in vs a signed-in user's request).
   */
  private async checkSecondFactor(
    em: EntityManager,
    user: User,
    tf: TwoFactor,
    code: string,
    meta: RequestMeta,
    opts: { allowRecovery: boolean; fail: (reason: CodeFailure, message: string) => AppError },
  ): Promise<'TOTP' | 'RECOVERY_CODE'> {
    const fail = async (reason: CodeFailure) => {
      await this.audit(em, AuditAction.TWO_FACTOR_FAILED, {
        userId: user.id,
        success: false,
        meta,
        details: { reason },
      });
      return opts.fail(reason, CODE_MESSAGES[reason]);
    };
    if (typeof code !== 'string' || code.length > MAX_CODE_INPUT) throw tooLong('code', MAX_CODE_INPUT);
    const totp = normalizeTotpCode(code);
    if (totp) {
      const secret = this.deps.secretBox.decrypt(tf.secretEncrypted, user.id);
      const last = tf.lastUsedStep === null || tf.lastUsedStep === undefined ? null : Number(tf.lastUsedStep);
      const r = await verifyTotp({ secret, code: totp, lastUsedStep: last, now: this.now() });
      if (!r.ok) throw await fail(r.reason === 'REPLAYED' ? 'TOTP_REPLAYED' : 'INVALID_CODE');
      // Claim the step: of two concurrent requests with the same code, one updates the row.
      const claimed = await em.nativeUpdate(
        TwoFactor,
        { id: tf.id, $or: [{ lastUsedStep: null }, { lastUsedStep: { $lt: String(r.timeStep) } }] },
        { lastUsedStep: String(r.timeStep) },
      );
      if (claimed !== 1) throw await fail('TOTP_REPLAYED');
      return 'TOTP';
    }
    if (opts.allowRecovery && normalizeRecoveryCode(code)) {
      const row = await em.findOne(RecoveryCode, { user: user.id, codeHash: hashRecoveryCode(code) });
      if (!row) throw await fail('INVALID_CODE');
      const claimed = row.usedAt
        ? 0
        : await em.nativeUpdate(RecoveryCode, { id: row.id, usedAt: null }, { usedAt: this.now() });
      if (claimed !== 1) throw await fail('RECOVERY_CODE_USED');
      const remaining = await em.count(RecoveryCode, { user: user.id, usedAt: null });
      await this.audit(em, AuditAction.RECOVERY_CODE_USED, {
        userId: user.id,
        success: true,
        meta,
        details: { remaining },
      });
      return 'RECOVERY_CODE';
    }
    throw await fail('INVALID_CODE');
  }

  private async replaceRecoveryCodes(em: EntityManager, user: User): Promise<string[]> {
    await em.nativeDelete(RecoveryCode, { user: user.id });
    const { codes, hashes } = generateRecoveryCodes();
    for (const codeHash of hashes) {
      const row = new RecoveryCode();
      row.user = user;
      row.codeHash = codeHash;
      em.persist(row);
    }
    await em.flush();
    return codes;
  }

  private async loadUser(em: EntityManager, id: string): Promise<User> {
    const user = await em.findOne(User, { id });
    if (!user) throw new AppError('UNAUTHENTICATED', 'Sign in first', { reason: 'USER_NOT_FOUND' });
    return user;
  }

  // ---------------------------------------------------------------- access tokens

  /**
   * `Authorization` header (or graphql-ws connectionParams) -> the caller. No header: anonymous.
   * A bad, expired or revoked token is an error, never silently anonymous.
   */
  async authenticate(authorization: string | undefined): Promise<AuthUser | null> {
    if (authorization === undefined || authorization === '') return null;
    const unauthenticated = (e: AppError) =>
      new AppError('UNAUTHENTICATED', e.message, { reason: e.extensions.reason, http: { status: 401 } });
    const token = bearerToken(authorization);
    if (!token) throw unauthenticated(jwtError('TOKEN_INVALID'));
    let claims;
    try {
      claims = await this.deps.jwt.verifyAccessToken(token);
    } catch (e) {
      throw e instanceof AppError ? unauthenticated(e) : e;
    }
    const state = await this.sessionState(claims.sid, claims.sub);
    if (!state || state.revokedAt) {
      throw new AppError('UNAUTHENTICATED', 'This session has ended; sign in again', {
        reason: 'SESSION_REVOKED',
        http: { status: 401 },
      });
    }
    if (state.disabledAt)
      throw new AppError('UNAUTHENTICATED', 'This account is disabled', {
        reason: 'USER_DISABLED',
        http: { status: 401 },
      });
    return { id: state.userId, email: state.email, role: state.role, sessionId: claims.sid, expiresAt: claims.exp };
  }

  /** For long-lived connections: is this session still good? */
  async isSessionActive(sessionId: string): Promise<boolean> {
    const state = await this.sessionState(sessionId);
    return !!state && !state.revokedAt && !state.disabledAt;
  }

  /**
   * A session with its user's standing, in one plain statement. Every authenticated request and
   * socket check reads it: hydrating the two entities cost about 8x the query itself.
   */
  private async sessionState(sessionId: string, userId?: string): Promise<SessionState | null> {
    const rows = (await this.freshEm('authentication')
      .getConnection()
      .execute(
        `select u.id as "userId", u.email, u.role, u.disabled_at as "disabledAt", s.revoked_at as "revokedAt"
         from auth_sessions s join users u on u.id = s.user_id where s.id = ?${userId === undefined ? '' : ' and s.user_id = ?'}`,
        userId === undefined ? [sessionId] : [sessionId, userId],
      )) as SessionState[];
    return rows[0] ?? null;
  }

  // ---------------------------------------------------------------- registration and email

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
    user.createdAt = user.updatedAt = this.now();
    const created = await this.insertUnlessTaken(em, user);
    if (created) this.afterAnswer('registration', (bg) => this.welcome(bg, user, meta));
    else this.afterAnswer('registration of a taken address', (bg) => this.warnOwner(bg, email, meta));
    return user;
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
    await this.audit(em, AuditAction.REGISTERED, { userId: user.id, success: true, meta });
  }

  private async warnOwner(em: EntityManager, email: string, meta: RequestMeta): Promise<void> {
    const owner = await em.findOne(User, { email });
    if (!owner) return;
    if (!owner.disabledAt) {
      // An owner who never verified may have lost the first mail: a new link helps more than a notice.
      if (owner.emailVerifiedAt)
        this.deliver(
          accountExistsEmail({ to: owner.email, name: owner.name, publicUrl: this.deps.settings.publicUrl }),
        );
      else await this.mailVerificationLink(em, owner);
    }
    await this.audit(em, AuditAction.REGISTRATION_EMAIL_TAKEN, { userId: owner.id, success: false, meta });
  }

  /** A new verification link (replacing older ones), mailed. */
  private async mailVerificationLink(em: EntityManager, user: User): Promise<void> {
    const { emailVerificationTtlHours: ttlHours, publicUrl } = this.deps.settings;
    const token = await this.issueEmailToken(em, user.id, EmailTokenPurpose.VERIFY_EMAIL, ttlHours * 3_600_000);
    this.deliver(verificationEmail({ to: user.email, name: user.name, publicUrl, token, ttlHours }));
  }

  async verifyEmail(em: EntityManager, token: string, meta: RequestMeta): Promise<User> {
    const row = await this.consumeEmailToken(em, token, EmailTokenPurpose.VERIFY_EMAIL);
    const user = row.user;
    if (!user.emailVerifiedAt) {
      user.emailVerifiedAt = this.now();
      await em.flush();
    }
    await this.audit(em, AuditAction.EMAIL_VERIFIED, { userId: user.id, success: true, meta });
    return user;
  }

  /** Same answer, after the same work, whether or not the account exists or is verified already. */
  async resendVerificationEmail(_em: EntityManager, emailInput: string): Promise<boolean> {
    const email = parseEmail(emailInput);
    this.afterAnswer('verification mail', async (bg) => {
      const user = await bg.findOne(User, { email });
      if (user && !user.emailVerifiedAt && !user.disabledAt) await this.mailVerificationLink(bg, user);
    });
    return true;
  }

  // ---------------------------------------------------------------- signing in

  /**
   * Unknown email and wrong password: the same error after the same argon2 work. Guessing is
   * limited per client (LoginGuard): a valid device token or an IP the account signed in from keeps
   * the owner out of the budget strangers share. The password is checked before disabled or
   * unverified are told, so those tell only someone who knows the password.
   */
  async login(
    em: EntityManager,
    emailInput: string,
    passwordInput: string,
    meta: RequestMeta,
    deviceToken?: string | null,
  ): Promise<AuthResult> {
    limitLength(emailInput, 'email', 1024);
    limitLength(passwordInput, 'password', MAX_PASSWORD_INPUT);
    if (deviceToken != null) limitLength(deviceToken, 'deviceToken', MAX_DEVICE_TOKEN_INPUT);
    const email = normalizeEmail(emailInput);
    const user = await em.findOne(User, { email });
    const client: SignInClient = {
      account: `email:${email}`,
      ip: meta.ip || 'unknown',
      deviceId: await this.devices.deviceOf(user, deviceToken),
      knownIp: () => this.signedInFrom(em, email, meta.ip),
    };
    await this.deps.loginGuard.admit(client);
    const ok = await verifyPasswordOrDummy(user?.passwordHash, passwordInput);
    if (!user || !ok) {
      await this.deps.loginGuard.failed(client);
      await this.audit(em, AuditAction.SIGN_IN_FAILED, {
        userId: user?.id,
        success: false,
        meta,
        details: { reason: 'INVALID_CREDENTIALS', knownDevice: !!client.deviceId },
      });
      throw invalidCredentials();
    }
    await this.deps.loginGuard.succeeded(client);
    if (user.disabledAt) {
      await this.audit(em, AuditAction.SIGN_IN_FAILED, {
        userId: user.id,
        success: false,
        meta,
        details: { reason: 'USER_DISABLED' },
      });
      throw new AppError('FORBIDDEN', 'This account is disabled', { reason: 'USER_DISABLED' });
    }
    if (!user.emailVerifiedAt && !this.deps.settings.allowUnverifiedLogin) {
      await this.audit(em, AuditAction.SIGN_IN_FAILED, {
        userId: user.id,
        success: false,
        meta,
        details: { reason: 'EMAIL_NOT_VERIFIED' },
      });
      throw new AppError('FORBIDDEN', 'Confirm your email address first (see the mail we sent you)', {
        reason: 'EMAIL_NOT_VERIFIED',
      });
    }
    if (needsRehash(user.passwordHash)) user.passwordHash = await hashPassword(passwordInput);
    if (await this.enabledTwoFactor(em, user.id)) {
      await em.flush();
      const challengeToken = await this.deps.jwt.signChallengeToken({
        sub: user.id,
        did: client.deviceId ?? undefined,
      });
      return { twoFactorRequired: true, challengeToken };
    }
    return this.startSession(em, user, meta, client.deviceId);
  }

  /**
   * Whether the account of `email` completed a sign-in from `ip` in the last 30 days (sessions keep
   * where they began). One statement keyed by the address, the same for unknown ones.
   */
  private async signedInFrom(em: EntityManager, email: string, ip: string): Promise<boolean> {
    if (!ip) return false;
    const rows = (await em
      .getConnection()
      .execute(
        'select 1 from auth_sessions s join users u on u.id = s.user_id where u.email = ? and s.ip = ? and s.created_at > ? limit 1',
        [email, ip, new Date(this.now().getTime() - KNOWN_IP_DAYS * 86_400_000)],
      )) as unknown[];
    return rows.length > 0;
  }

  /** Second step of a sign-in with 2FA: a TOTP code (once per time step) or an unused recovery code. */
  async verifyTwoFactor(
    em: EntityManager,
    challengeToken: string,
    code: string,
    meta: RequestMeta,
  ): Promise<AuthResult> {
    limitLength(challengeToken, 'challengeToken', MAX_TOKEN_INPUT);
    const { sub, did } = await this.deps.jwt.verifyChallengeToken(challengeToken);
    const user = await this.loadUser(em, sub);
    if (user.disabledAt) throw new AppError('FORBIDDEN', 'This account is disabled', { reason: 'USER_DISABLED' });
    const tf = await this.enabledTwoFactor(em, user.id);
    if (!tf)
      throw new AppError('UNAUTHENTICATED', 'Two-factor authentication is not on for this account', {
        reason: 'TWO_FACTOR_NOT_ENABLED',
      });
    await this.checkSecondFactor(em, user, tf, code, meta, {
      allowRecovery: true,
      fail: (reason, message) => new AppError('UNAUTHENTICATED', message, { reason }),
    });
    return this.startSession(em, user, meta, did);
  }

  /**
   * Exchanges a refresh token for new tokens; the old one stops working. Presenting a token that was
   * already exchanged means it was copied: the whole session (family) is revoked.
   */
  async refreshSession(em: EntityManager, refreshToken: string, meta: RequestMeta): Promise<AuthResult> {
    const invalid = (reason: string, message = 'The refresh token is not valid') =>
      new AppError('UNAUTHENTICATED', message, { reason });
    if (typeof refreshToken !== 'string' || refreshToken.length > MAX_TOKEN_INPUT || !looksLikeToken(refreshToken))
      throw invalid('TOKEN_INVALID');
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
      await this.revokeSessions(em, user.id, 'REFRESH_TOKEN_REUSED', { sessionId: session.id });
      await this.audit(em, AuditAction.REFRESH_TOKEN_REUSED, {
        userId: user.id,
        success: false,
        meta,
        details: { sessionId: session.id },
      });
      return invalid('REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session has been ended');
    };
    if (row.rotatedAt) throw await reuse();
    if (row.expiresAt.getTime() <= this.now().getTime())
      throw invalid('TOKEN_EXPIRED', 'The refresh token has expired; sign in again');
    if (user.disabledAt) throw invalid('USER_DISABLED', 'This account is disabled');
    const claimed = await em.nativeUpdate(RefreshToken, { id: row.id, rotatedAt: null }, { rotatedAt: this.now() });
    if (claimed !== 1) throw await reuse();
    const next = this.newRefreshToken(session);
    session.lastUsedAt = this.now();
    em.persist(next.row);
    await em.flush();
    return this.accessPayload(user, session, next.token);
  }

  /** Ends the session of this refresh token. True whether or not the token was known (nothing to learn). */
  async logout(em: EntityManager, refreshToken: string, meta: RequestMeta): Promise<boolean> {
    if (typeof refreshToken !== 'string' || refreshToken.length > MAX_TOKEN_INPUT || !looksLikeToken(refreshToken))
      return true;
    const row = await em.findOne(RefreshToken, { tokenHash: hashToken(refreshToken) }, { populate: ['session'] });
    if (row && !row.session.revokedAt) {
      const userId = row.session.user.id;
      await this.revokeSessions(em, userId, 'LOGOUT', { sessionId: row.session.id });
      await this.audit(em, AuditAction.LOGOUT, { userId, success: true, meta });
    }
    return true;
  }

  async logoutAllSessions(em: EntityManager, caller: AuthUser, meta: RequestMeta): Promise<number> {
    const n = await this.revokeSessions(em, caller.id, 'LOGOUT_ALL');
    await this.cancelResetLinks(em, caller.id);
    await this.audit(em, AuditAction.LOGOUT_ALL, { userId: caller.id, success: true, meta, details: { sessions: n } });
    return n;
  }

  // ---------------------------------------------------------------- passwords

  /** Always true, after the same work for any address: the account is looked up after the answer. */
  async requestPasswordReset(_em: EntityManager, emailInput: string, meta: RequestMeta): Promise<boolean> {
    const email = parseEmail(emailInput);
    this.afterAnswer('password reset request', async (bg) => {
      const user = await bg.findOne(User, { email });
      if (!user || user.disabledAt) return;
      const token = await this.issueEmailToken(
        bg,
        user.id,
        EmailTokenPurpose.RESET_PASSWORD,
        this.deps.settings.passwordResetTtlMinutes * 60_000,
      );
      this.deliver(
        passwordResetEmail({
          to: user.email,
          name: user.name,
          publicUrl: this.deps.settings.publicUrl,
          token,
          ttlMinutes: this.deps.settings.passwordResetTtlMinutes,
        }),
      );
      await this.audit(bg, AuditAction.PASSWORD_RESET_REQUESTED, { userId: user.id, success: true, meta });
    });
    return true;
  }

  /**
   * Sets the new password, ends every session, keeps 2FA as it is. The policy is checked before the
   * token is spent. Everything, the audit row included, happens in one transaction on one
   * connection; sockets are told after the commit, and a refused link is audited after the rollback.
   */
  async resetPassword(em: EntityManager, token: string, newPassword: string, meta: RequestMeta): Promise<boolean> {
    limitLength(newPassword, 'newPassword', MAX_PASSWORD_INPUT);
    if (typeof token !== 'string' || token.length > MAX_TOKEN_INPUT || !looksLikeToken(token))
      throw emailTokenError('TOKEN_INVALID');
    const pending = await em.findOne(
      EmailToken,
      { tokenHash: hashToken(token), purpose: EmailTokenPurpose.RESET_PASSWORD },
      { populate: ['user'] },
    );
    const password = assertAcceptablePassword(newPassword, { email: pending?.user.email }, 'newPassword');
    const hash = await hashPassword(password);
    let user: User;
    try {
      user = await em.transactional(async (tem) => {
        const row = await this.consumeEmailToken(tem, token, EmailTokenPurpose.RESET_PASSWORD);
        const u = await tem.findOneOrFail(User, { id: row.user.id });
        u.passwordHash = hash;
        // Following the link proves control of the mailbox.
        u.emailVerifiedAt ??= this.now();
        await tem.flush();
        await this.cancelResetLinks(tem, u.id);
        await this.markSessionsRevoked(tem, u.id, 'PASSWORD_RESET');
        await this.audit(tem, AuditAction.PASSWORD_RESET, { userId: u.id, success: true, meta });
        return u;
      });
    } catch (err) {
      const reason = err instanceof AppError ? err.extensions.reason : undefined;
      if (pending && reason)
        await this.audit(em, AuditAction.PASSWORD_RESET, {
          userId: pending.user.id,
          success: false,
          meta,
          details: { reason },
        });
      throw err;
    }
    this.emitRevoked({ userId: user.id, reason: 'PASSWORD_RESET' });
    await this.deps.loginGuard.accountRecovered(`email:${user.email}`);
    return true;
  }

  /** Needs the current password; ends the caller's other sessions. */
  async changePassword(
    em: EntityManager,
    caller: AuthUser,
    currentPassword: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<boolean> {
    limitLength(currentPassword, 'currentPassword', MAX_PASSWORD_INPUT);
    limitLength(newPassword, 'newPassword', MAX_PASSWORD_INPUT);
    const user = await this.loadUser(em, caller.id);
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await this.audit(em, AuditAction.PASSWORD_CHANGED, {
        userId: user.id,
        success: false,
        meta,
        details: { reason: 'WRONG_PASSWORD' },
      });
      throw new AppError('BAD_USER_INPUT', 'The current password is not right', {
        field: 'currentPassword',
        reason: 'WRONG_PASSWORD',
      });
    }
    const password = assertAcceptablePassword(newPassword, { email: user.email }, 'newPassword');
    if (await verifyPassword(user.passwordHash, password)) {
      throw new AppError('BAD_USER_INPUT', 'The new password is the same as the current one', {
        field: 'newPassword',
        reason: 'SAME_AS_CURRENT',
      });
    }
    user.passwordHash = await hashPassword(password);
    await em.flush();
    await this.cancelResetLinks(em, user.id);
    await this.revokeSessions(em, user.id, 'PASSWORD_CHANGED', { exceptSessionId: caller.sessionId });
    await this.audit(em, AuditAction.PASSWORD_CHANGED, { userId: user.id, success: true, meta });
    return true;
  }

  // ---------------------------------------------------------------- two-factor

  /** A new secret to scan; 2FA is not on until confirmTwoFactorEnrollment gets a code from it. */
  async beginTwoFactorEnrollment(em: EntityManager, caller: AuthUser): Promise<TwoFactorEnrollmentResult> {
    const user = await this.loadUser(em, caller.id);
    let tf = await em.findOne(TwoFactor, { user: user.id });
    if (tf?.enabledAt)
      throw new AppError('CONFLICT', 'Two-factor authentication is already on; disable it first', {
        reason: 'TWO_FACTOR_ALREADY_ENABLED',
      });
    const secret = generateTotpSecret();
    if (!tf) {
      tf = new TwoFactor();
      tf.user = user;
      em.persist(tf);
    }
    tf.secretEncrypted = this.deps.secretBox.encrypt(secret, user.id);
    tf.lastUsedStep = null;
    await em.flush();
    const otpauthUrl = totpUri({ secret, account: user.email, issuer: this.deps.settings.totpIssuer });
    return { secret, otpauthUrl, qrCodeDataUrl: await totpQrCodeDataUrl(otpauthUrl) };
  }

  /** Turns 2FA on with a code from the new secret; returns the 10 recovery codes, shown this once. */
  async confirmTwoFactorEnrollment(
    em: EntityManager,
    caller: AuthUser,
    code: string,
    meta: RequestMeta,
  ): Promise<string[]> {
    const user = await this.loadUser(em, caller.id);
    const tf = await em.findOne(TwoFactor, { user: user.id });
    if (!tf) throw new AppError('CONFLICT', 'Begin two-factor enrolment first', { reason: 'NO_ENROLLMENT' });
    if (tf.enabledAt)
      throw new AppError('CONFLICT', 'Two-factor authentication is already on', {
        reason: 'TWO_FACTOR_ALREADY_ENABLED',
      });
    await this.checkSecondFactor(em, user, tf, code, meta, {
      allowRecovery: false,
      fail: (reason, message) => new AppError('BAD_USER_INPUT', message, { field: 'code', reason }),
    });
    tf.enabledAt = this.now();
    await em.flush();
    const codes = await this.replaceRecoveryCodes(em, user);
    await this.audit(em, AuditAction.TWO_FACTOR_ENABLED, { userId: user.id, success: true, meta });
    return codes;
  }

  /** Needs the password and a current code (TOTP or recovery). */
  async disableTwoFactor(
    em: EntityManager,
    caller: AuthUser,
    password: string,
    code: string,
    meta: RequestMeta,
  ): Promise<boolean> {
    limitLength(password, 'password', MAX_PASSWORD_INPUT);
    const user = await this.loadUser(em, caller.id);
    const tf = await this.enabledTwoFactor(em, user.id);
    if (!tf)
      throw new AppError('CONFLICT', 'Two-factor authentication is not on', { reason: 'TWO_FACTOR_NOT_ENABLED' });
    if (!(await verifyPassword(user.passwordHash, password))) {
      throw new AppError('BAD_USER_INPUT', 'The password is not right', {
        field: 'password',
        reason: 'WRONG_PASSWORD',
      });
    }
    await this.checkSecondFactor(em, user, tf, code, meta, {
      allowRecovery: true,
      fail: (reason, message) => new AppError('BAD_USER_INPUT', message, { field: 'code', reason }),
    });
    await em.nativeDelete(RecoveryCode, { user: user.id });
    await em.nativeDelete(TwoFactor, { id: tf.id });
    await this.audit(em, AuditAction.TWO_FACTOR_DISABLED, { userId: user.id, success: true, meta });
    return true;
  }

  /** New recovery codes (the old ones stop working); needs a current TOTP code. */
  async regenerateRecoveryCodes(
    em: EntityManager,
    caller: AuthUser,
    code: string,
    meta: RequestMeta,
  ): Promise<string[]> {
    const user = await this.loadUser(em, caller.id);
    const tf = await this.enabledTwoFactor(em, user.id);
    if (!tf)
      throw new AppError('CONFLICT', 'Two-factor authentication is not on', { reason: 'TWO_FACTOR_NOT_ENABLED' });
    await this.checkSecondFactor(em, user, tf, code, meta, {
      allowRecovery: false,
      fail: (reason, message) => new AppError('BAD_USER_INPUT', message, { field: 'code', reason }),
    });
    const codes = await this.replaceRecoveryCodes(em, user);
    await this.audit(em, AuditAction.RECOVERY_CODES_REGENERATED, { userId: user.id, success: true, meta });
    return codes;
  }

  // ---------------------------------------------------------------- administration

  private async assertNotLastAdmin(em: EntityManager, user: User): Promise<void> {
    if (user.role !== Role.ADMIN || user.disabledAt) return;
    const admins = await em.count(User, { role: Role.ADMIN, disabledAt: null });
    if (admins <= 1) throw new AppError('CONFLICT', 'This is the last active admin', { reason: 'LAST_ADMIN' });
  }

  private async findUserForAdmin(em: EntityManager, userId: string): Promise<User> {
    const user = /^[0-9a-f-]{36}$/i.test(userId) ? await em.findOne(User, { id: userId }) : null;
    if (!user) throw new AppError('NOT_FOUND', 'User not found');
    return user;
  }

  async setUserRole(em: EntityManager, actor: AuthUser, userId: string, role: Role, meta: RequestMeta): Promise<User> {
    const user = await this.findUserForAdmin(em, userId);
    if (user.role === role) return user;
    if (role !== Role.ADMIN) await this.assertNotLastAdmin(em, user);
    const from = user.role;
    user.role = role;
    await em.flush();
    this.emit(this.roleListeners, { userId: user.id, role }, 'role change');
    await this.audit(em, AuditAction.ROLE_CHANGED, {
      userId: user.id,
      actorId: actor.id,
      success: true,
      meta,
      details: { from, to: role },
    });
    return user;
  }

  /** Disabling ends every session of the user at once. */
  async setUserDisabled(
    em: EntityManager,
    actor: AuthUser,
    userId: string,
    disabled: boolean,
    meta: RequestMeta,
  ): Promise<User> {
    const user = await this.findUserForAdmin(em, userId);
    if (disabled === !!user.disabledAt) return user;
    if (disabled) await this.assertNotLastAdmin(em, user);
    user.disabledAt = disabled ? this.now() : null;
    await em.flush();
    if (disabled) {
      await this.revokeSessions(em, user.id, 'USER_DISABLED');
      await this.cancelResetLinks(em, user.id);
    }
    await this.audit(em, disabled ? AuditAction.USER_DISABLED : AuditAction.USER_ENABLED, {
      userId: user.id,
      actorId: actor.id,
      success: true,
      meta,
    });
    return user;
  }

  /** For a user who lost both phone and recovery codes (after checking who they are out of band). */
  async resetUserTwoFactor(em: EntityManager, actor: AuthUser, userId: string, meta: RequestMeta): Promise<User> {
    const user = await this.findUserForAdmin(em, userId);
    await em.nativeDelete(RecoveryCode, { user: user.id });
    const n = await em.nativeDelete(TwoFactor, { user: user.id });
    if (n)
      await this.audit(em, AuditAction.TWO_FACTOR_DISABLED, {
        userId: user.id,
        actorId: actor.id,
        success: true,
        meta,
        details: { by: 'admin' },
      });
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
    const email = parseEmail(input.email, 'ADMIN_EMAIL');
    const password = assertAcceptablePassword(input.password, { email }, 'ADMIN_PASSWORD');
    let user = await em.findOne(User, { email });
    if (user) {
      if (user.role === Role.ADMIN) throw new AppError('CONFLICT', `${email} is already an admin`, { field: 'email' });
      user.role = Role.ADMIN;
    } else {
      user = new User();
      user.email = email;
      user.name = input.name ?? null;
      user.role = Role.ADMIN;
      user.passwordHash = await hashPassword(password);
      em.persist(user);
    }
    user.emailVerifiedAt ??= this.now();
    await em.flush();
    await this.audit(em, AuditAction.ADMIN_CREATED, { userId: user.id, success: true });
    return user;
  }
}
