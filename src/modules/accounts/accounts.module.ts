import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DEFAULT_SECRET, type Config } from '../../infra/config';
import type { RedisConnections } from '../../infra/messaging/redis';
import { createAuditWriter } from '../audit';
import { AccountDeletion } from './admin/account-deletion';
import { Invitations } from './admin/invitations';
import { UserAdmin } from './admin/user-admin';
import { AfterAnswer } from './after-answer';
import { BackgroundTasks, type Scheduler } from './background';
import { MemoryCounterStore, RedisCounterStore, type CounterStore } from './limits/counter-store';
import { LoginGuard } from './limits/login-guard';
import { AUTH_RATE_LIMITS, RateLimiter, type AuthRateLimits } from './limits/rate-limit';
import { DEFAULT_THROTTLE_POLICY, SignInThrottle, type ThrottlePolicy } from './limits/sign-in-throttle';
import { EmailLinks } from './mail/email-links';
import { createMailer } from './mail/mailer';
import { OrmOutbox } from './mail/orm-outbox';
import { Passwords } from './passwords/passwords';
import { Registration } from './registration/registration';
import { AccountEvents } from './sessions/account-events';
import { Authentication } from './sessions/authentication';
import { SessionIssuer } from './sessions/session-issuer';
import { SessionRevocation } from './sessions/session-revocation';
import { Sessions } from './sessions/sessions';
import { SignIn } from './sessions/sign-in';
import { DeviceTokens } from './tokens/device-tokens';
import { JwtService, loadKeyRing } from './tokens/jwt';
import { SecondFactor } from './two-factor/second-factor';
import { SecretBox } from './two-factor/secret-box';
import { reencryptTotpSecrets } from './two-factor/totp-rekey';
import { TwoFactorSetup } from './two-factor/two-factor-setup';

/** The accounts feature: one object per use case, built once (Services.auth). */
export interface AccountsModule {
  registration: Registration;
  signIn: SignIn;
  sessions: Sessions;
  /** Access tokens -> the caller (Services.authenticate). */
  authentication: Authentication;
  passwords: Passwords;
  twoFactor: TwoFactorSetup;
  userAdmin: UserAdmin;
  /** inviteUser and the reset links admins have mailed (sendUserPasswordReset). */
  invitations: Invitations;
  /** deleteUser (ACCOUNT_DELETION_PATIENTS). */
  accountDeletion: AccountDeletion;
  /** Sessions ended and roles changed (the WebSocket server closes sockets on them). */
  events: AccountEvents;
  jwt: JwtService;
  rateLimiter: RateLimiter;
  /** The limits the resolvers apply (AUTH_RATE_LIMITS unless overridden). */
  rateLimits: AuthRateLimits;
  counters: CounterStore;
  /** Resolves when the work queued after answers (look-ups, mailed links, mail) is done (tests, shutdown). */
  drainBackground(): Promise<void>;
}

export interface AccountsModuleOptions {
  /** Replaces buckets of AUTH_RATE_LIMITS (tests use small limits). */
  rateLimits?: Partial<AuthRateLimits>;
  /** Changes the sign-in slowdown (DEFAULT_THROTTLE_POLICY). */
  throttle?: Partial<ThrottlePolicy>;
  /** When work done after an answer starts (tests hold it to see that the answer did not wait). */
  scheduleBackground?: Scheduler;
}

type AccountsLogger = {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
};

/** JWT_PRIVATE_KEY, or the key ring under DATA_DIR/keys; keys rotated by another process are picked up on first sight. */
async function createJwt(config: Config): Promise<JwtService> {
  const keyOptions = { privateKey: config.JWT_PRIVATE_KEY || undefined, keyDir: path.join(config.dataDir, 'keys') };
  return new JwtService(
    await loadKeyRing(keyOptions),
    { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, accessTtlSeconds: config.JWT_ACCESS_TTL_SECONDS },
    undefined,
    () => loadKeyRing(keyOptions),
  );
}

/**
 * TOTP_ENCRYPTION_KEY is set or generated under DATA_DIR/keys (ensureSecrets). Secrets stored under the
 * public default of earlier versions stay readable and are moved to the current key here, at start.
 */
async function createSecretBox(config: Config, em: EntityManager, logger: AccountsLogger): Promise<SecretBox> {
  const secretBox = new SecretBox(config.TOTP_ENCRYPTION_KEY, [DEFAULT_SECRET]);
  const rekeyed = await reencryptTotpSecrets(em, secretBox);
  if (rekeyed.reencrypted)
    logger.info({ rows: rekeyed.reencrypted }, 'TOTP secrets re-encrypted under the current TOTP_ENCRYPTION_KEY');
  if (rekeyed.unreadable)
    logger.warn(
      { rows: rekeyed.unreadable },
      'TOTP secrets under a key this server does not have: those users cannot use 2FA until TOTP_ENCRYPTION_KEY is restored',
    );
  return secretBox;
}

/**
 * Builds the accounts feature from config: keys (JWT_PRIVATE_KEY or DATA_DIR/keys), the mailer
 * (SMTP_URL or the outbox table), the counter store (Redis when REDIS_URL is set, else memory).
 */
export async function createAccountsModule(opts: {
  config: Config;
  forkEm: () => EntityManager;
  redis: RedisConnections | null;
  logger: AccountsLogger;
  options?: AccountsModuleOptions;
}): Promise<AccountsModule> {
  const { config, forkEm, logger } = opts;
  const now = () => new Date();
  const jwt = await createJwt(config);
  const secretBox = await createSecretBox(config, forkEm(), logger);
  const counters: CounterStore = opts.redis
    ? new RedisCounterStore(opts.redis.main, `${config.REDIS_PREFIX}rl:`)
    : new MemoryCounterStore();
  const mailer = createMailer({
    smtpUrl: config.SMTP_URL || undefined,
    from: config.MAIL_FROM,
    outbox: new OrmOutbox(forkEm),
    logger,
    // Only on a developer's machine: the log then shows the link to click.
    logBodies: config.NODE_ENV === 'development',
  });
  const rateLimiter = new RateLimiter(counters);
  const rateLimits: AuthRateLimits = { ...AUTH_RATE_LIMITS, ...opts.options?.rateLimits };
  const throttle = new SignInThrottle(counters, { ...DEFAULT_THROTTLE_POLICY, ...opts.options?.throttle });
  const loginGuard = new LoginGuard(rateLimiter, throttle, rateLimits.login);

  const audit = createAuditWriter(logger, now);
  const afterAnswer = new AfterAnswer(new BackgroundTasks(logger, opts.options?.scheduleBackground), forkEm, mailer);
  const links = new EmailLinks(now);
  const events = new AccountEvents(logger);
  const revocation = new SessionRevocation(events, now);
  const devices = new DeviceTokens(jwt);
  const secondFactor = new SecondFactor(secretBox, audit, now);
  const issuer = new SessionIssuer({ jwt, devices, audit, refreshTtlDays: config.JWT_REFRESH_TTL_DAYS, now });
  const publicUrl = config.PUBLIC_URL;
  const userAdmin = new UserAdmin({ revocation, links, secondFactor, events, audit, now });
  return {
    registration: new Registration({
      links,
      afterAnswer,
      audit,
      publicUrl,
      emailVerificationTtlHours: config.EMAIL_VERIFICATION_TTL_HOURS,
      now,
    }),
    signIn: new SignIn({
      jwt,
      devices,
      loginGuard,
      issuer,
      secondFactor,
      audit,
      allowUnverifiedLogin: config.ALLOW_UNVERIFIED_LOGIN,
      now,
    }),
    sessions: new Sessions({ issuer, revocation, links, audit, now }),
    authentication: new Authentication(jwt, forkEm),
    passwords: new Passwords({
      links,
      afterAnswer,
      revocation,
      loginGuard,
      audit,
      publicUrl,
      passwordResetTtlMinutes: config.PASSWORD_RESET_TTL_MINUTES,
      now,
    }),
    twoFactor: new TwoFactorSetup({ secondFactor, secretBox, audit, totpIssuer: 'Dermagraph', now }),
    userAdmin,
    invitations: new Invitations({
      admin: userAdmin,
      links,
      afterAnswer,
      revocation,
      publicUrl,
      invitationTtlHours: config.INVITATION_TTL_HOURS,
      passwordResetTtlMinutes: config.PASSWORD_RESET_TTL_MINUTES,
      now,
    }),
    accountDeletion: new AccountDeletion({
      admin: userAdmin,
      revocation,
      patients: config.ACCOUNT_DELETION_PATIENTS,
      now,
    }),
    events,
    jwt,
    rateLimiter,
    rateLimits,
    counters,
    drainBackground: () => afterAnswer.drain(),
  };
}
