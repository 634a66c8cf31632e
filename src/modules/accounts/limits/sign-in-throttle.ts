import type { CounterStore } from './counter-store';
import { rateLimitedError } from './rate-limit';

export interface ThrottlePolicy {
  /** Failures allowed before any wait. */
  freeFailures: number;
  /** Wait after the first failure past the free ones; doubles with each further failure. */
  baseDelayMs: number;
  /** The longest wait, however many failures: the owner can always try again after it. */
  maxDelayMs: number;
  /** Failures are forgotten after this long without a new one. */
  decayMs: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  decayMs: 60 * 60_000,
};

/** Wait required after `failures` consecutive failures: 0, then base * 2^(n - free - 1), capped. */
export function signInDelayMs(failures: number, policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY): number {
  const over = failures - policy.freeFailures;
  if (over <= 0) return 0;
  // Exponent bounded so 2 ** n cannot overflow into Infinity.
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(over - 1, 40));
}

/**
 * Progressive slowdown of sign-in per client lane (LoginGuard: a device token, or an account+IP
 * pair), so one client's failures slow that client only. Not a lockout: waits are capped, refused
 * attempts do not add failures (so an attacker cannot push the wait up while it runs), failures
 * decay, and a good sign-in clears them.
 */
export class SignInThrottle {
  constructor(
    private readonly counters: CounterStore,
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  private key(client: string): string {
    return `signin-failures|${client}`;
  }

  /** Milliseconds the client must still wait (0: may try now). */
  async waitMs(client: string): Promise<number> {
    const state = await this.counters.peek(this.key(client));
    if (!state) return 0;
    // The sliding expiry was set to decayMs at the last failure: that tells when it happened.
    const lastFailureAt = this.now() - (this.policy.decayMs - state.ttlMs);
    return Math.max(0, lastFailureAt + signInDelayMs(state.count, this.policy) - this.now());
  }

  /** Throws RATE_LIMITED (retryAfterSeconds) while the client must wait. Call before checking the password. */
  async assertMayTry(client: string): Promise<void> {
    const wait = await this.waitMs(client);
    if (wait > 0) throw rateLimitedError(Math.ceil(wait / 1000), 'Too many failed sign-ins; wait before trying again');
  }

  async recordFailure(client: string): Promise<{ failures: number; delayMs: number }> {
    const { count } = await this.counters.increment(this.key(client), this.policy.decayMs, 'sliding');
    return { failures: count, delayMs: signInDelayMs(count, this.policy) };
  }

  async recordSuccess(client: string): Promise<void> {
    await this.counters.reset(this.key(client));
  }
}
