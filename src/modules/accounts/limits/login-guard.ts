import type { LoginRateLimits, RateLimiter, RateLimitRule, RateLimitSubject } from './rate-limit';
import type { SignInThrottle } from './sign-in-throttle';

/** A sign-in attempt, as far as limits go. */
export interface SignInClient {
  /** `email:<normalised address>`: the same key whether or not the account exists. */
  account: string;
  ip: string;
  /** The id of a valid device token of this account (the owner's known device); null: unknown client. */
  deviceId: string | null;
  /** Whether the account completed a sign-in from this IP lately; asked only once the account's budget is spent. */
  knownIp: () => Promise<boolean>;
}

/**
 * Limits password guessing without letting anyone lock the owner out (OWASP "Blocking Brute Force
 * Attacks", ASVS V6.3): every client has a lane of its own - its device token, else its account+IP
 * pair - with a fixed budget of attempts and a capped, progressive slowdown after failures.
 * Clients that cannot show they are the owner's (no device token, an IP the account has not
 * signed in from) also share one budget per account, which stops guessing from many addresses;
 * the owner's device or IP is not held by it, so spending it shuts out only strangers.
 */
export class LoginGuard {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly throttle: SignInThrottle,
    private readonly limits: LoginRateLimits,
  ) {}

  private lane(c: SignInClient): { rule: RateLimitRule; subject: RateLimitSubject; key: string } {
    const subject: RateLimitSubject = c.deviceId
      ? { kind: 'device', id: c.deviceId }
      : { kind: 'pair', id: `${c.account}|${c.ip}` };
    return {
      rule: c.deviceId ? this.limits.perDevice : this.limits.perPair,
      subject,
      key: `${subject.kind}:${subject.id}`,
    };
  }

  /** Before the password is checked: RATE_LIMITED (retryAfterSeconds) when this client must wait. */
  async admit(c: SignInClient): Promise<void> {
    const lane = this.lane(c);
    await this.throttle.assertMayTry(lane.key);
    await this.limiter.consume(lane.rule, lane.subject);
    if (c.deviceId) return;
    try {
      await this.limiter.consume(this.limits.perAccount, { kind: 'account', id: c.account });
    } catch (e) {
      if (!(await c.knownIp())) throw e;
    }
  }

  async failed(c: SignInClient): Promise<void> {
    await this.throttle.recordFailure(this.lane(c).key);
  }

  /** The right password: this client's failures and spent budget are forgotten (not the account's shared one). */
  async succeeded(c: SignInClient): Promise<void> {
    const lane = this.lane(c);
    await this.throttle.recordSuccess(lane.key);
    await this.limiter.reset(lane.rule, lane.subject);
  }

  /** The owner proved control of the mailbox (a password reset): the account's shared budget starts afresh. */
  async accountRecovered(account: string): Promise<void> {
    await this.limiter.reset(this.limits.perAccount, { kind: 'account', id: account });
  }
}
