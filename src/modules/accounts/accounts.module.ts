import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../infra/config';
import type { RedisConnections } from '../../infra/messaging/redis';
import { OutboxMessage } from '../../entities';
import { AuthService } from './auth-service';
import { BackgroundTasks, type Scheduler } from './background';
import { MemoryCounterStore, RedisCounterStore, type CounterStore } from './counter-store';
import { JwtService, loadKeyRing } from './jwt';
import { LoginGuard } from './login-guard';
import { createMailer, type Outbox, type OutboxEntry } from './mail';
import { AUTH_RATE_LIMITS, RateLimiter, type AuthRateLimits } from './rate-limit';
import { SecretBox } from './secret-box';
import { reencryptTotpSecrets } from './totp-rekey';
import { DEFAULT_SECRET } from '../../infra/config';
import { DEFAULT_THROTTLE_POLICY, SignInThrottle, type ThrottlePolicy } from './sign-in-throttle';

/** The embedded mailer's outbox as the `outbox` table. */
export class OrmOutbox implements Outbox {
  constructor(private readonly forkEm: () => EntityManager) {}

  async add(entry: OutboxEntry): Promise<void> {
    const row = new OutboxMessage();
    row.id = entry.id;
    row.createdAt = entry.createdAt;
    row.sender = entry.from;
    row.recipient = entry.to;
    row.subject = entry.subject;
    row.text = entry.text;
    row.html = entry.html;
    await this.forkEm().persistAndFlush(row);
  }
}

export interface AuthModule {
  auth: AuthService;
  rateLimiter: RateLimiter;
  /** The limits the resolvers apply (AUTH_RATE_LIMITS unless overridden). */
  rateLimits: AuthRateLimits;
  counters: CounterStore;
}

export interface AuthModuleOptions {
  /** Replaces buckets of AUTH_RATE_LIMITS (tests use small limits). */
  rateLimits?: Partial<AuthRateLimits>;
  /** Changes the sign-in slowdown (DEFAULT_THROTTLE_POLICY). */
  throttle?: Partial<ThrottlePolicy>;
  /** When work done after an answer starts (tests hold it to see that the answer did not wait). */
  scheduleBackground?: Scheduler;
}

/**
 * Builds the accounts feature from config: keys (JWT_PRIVATE_KEY or DATA_DIR/keys), the mailer
 * (SMTP_URL or the outbox table), the counter store (Redis when REDIS_URL is set, else memory).
 */
export async function createAuthModule(opts: {
  config: Config;
  forkEm: () => EntityManager;
  redis: RedisConnections | null;
  logger: AuthServiceLogger;
  options?: AuthModuleOptions;
}): Promise<AuthModule> {
  const { config } = opts;
  const keyOptions = { privateKey: config.JWT_PRIVATE_KEY || undefined, keyDir: path.join(config.dataDir, 'keys') };
  const jwt = new JwtService(
    await loadKeyRing(keyOptions),
    { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, accessTtlSeconds: config.JWT_ACCESS_TTL_SECONDS },
    undefined,
    // Keys rotated by another process (dermagraph rotate-jwt-key) are picked up on first sight of their kid.
    () => loadKeyRing(keyOptions),
  );
  // TOTP_ENCRYPTION_KEY is set or generated under DATA_DIR/keys (ensureSecrets). Secrets stored under the
  // public default of earlier versions stay readable and are moved to the current key here, at start.
  const secretBox = new SecretBox(config.TOTP_ENCRYPTION_KEY, [DEFAULT_SECRET]);
  const rekeyed = await reencryptTotpSecrets(opts.forkEm(), secretBox);
  if (rekeyed.reencrypted)
    opts.logger.info({ rows: rekeyed.reencrypted }, 'TOTP secrets re-encrypted under the current TOTP_ENCRYPTION_KEY');
  if (rekeyed.unreadable)
    opts.logger.warn(
      { rows: rekeyed.unreadable },
      'TOTP secrets under a key this server does not have: those users cannot use 2FA until TOTP_ENCRYPTION_KEY is restored',
    );
  const counters: CounterStore = opts.redis
    ? new RedisCounterStore(opts.redis.main, `${config.REDIS_PREFIX}rl:`)
    : new MemoryCounterStore();
  const mailer = createMailer({
    smtpUrl: config.SMTP_URL || undefined,
    from: config.MAIL_FROM,
    outbox: new OrmOutbox(opts.forkEm),
    logger: opts.logger,
    // Only on a developer's machine: the log then shows the link to click.
    logBodies: config.NODE_ENV === 'development',
  });
  const rateLimiter = new RateLimiter(counters);
  const rateLimits: AuthRateLimits = { ...AUTH_RATE_LIMITS, ...opts.options?.rateLimits };
  const throttle = new SignInThrottle(counters, { ...DEFAULT_THROTTLE_POLICY, ...opts.options?.throttle });
  const auth = new AuthService({
    settings: {
      publicUrl: config.PUBLIC_URL,
      allowUnverifiedLogin: config.ALLOW_UNVERIFIED_LOGIN,
      emailVerificationTtlHours: config.EMAIL_VERIFICATION_TTL_HOURS,
      passwordResetTtlMinutes: config.PASSWORD_RESET_TTL_MINUTES,
      refreshTtlDays: config.JWT_REFRESH_TTL_DAYS,
      totpIssuer: 'Dermagraph',
    },
    jwt,
    mailer,
    loginGuard: new LoginGuard(rateLimiter, throttle, rateLimits.login),
    secretBox,
    forkEm: opts.forkEm,
    background: new BackgroundTasks(opts.logger, opts.options?.scheduleBackground),
    logger: opts.logger,
  });
  return { auth, rateLimiter, rateLimits, counters };
}

type AuthServiceLogger = ConstructorParameters<typeof AuthService>[0]['logger'];
