import type { getGraphQLRateLimiter, Identity, Store } from 'graphql-rate-limit';
import type { GraphQLResolveInfo } from 'graphql';
import { AppError } from '../../../infra/errors';
import type { CounterStore } from './counter-store';

/**
 * A graphql-rate-limit Store whose read is the atomic increment. getGraphQLRateLimiter calls
 * getForIdentity, compares the length with `max`, then calls setForIdentity; here the read has
 * already counted this call (INCR), and returns the calls before it, so concurrent callers each see
 * a distinct number and exactly `max` of them pass. setForIdentity has nothing left to do.
 * One instance per window length, because getForIdentity is not told the window. The library's `Store`
 * is an empty class, so this implements its shape without extending it.
 */
export class AtomicCounterRateLimitStore implements Store {
  constructor(
    private readonly counters: CounterStore,
    private readonly windowMs: number,
  ) {}

  static key(identity: Identity): string {
    return `${identity.fieldIdentity}|${identity.contextIdentity}`;
  }

  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    const { count } = await this.counters.increment(AtomicCounterRateLimitStore.key(identity), this.windowMs, 'fixed');
    // Timestamps "now" survive the limiter's `t + window > now` filter: every earlier call in the window counts.
    return new Array<number>(count - 1).fill(Date.now());
  }

  setForIdentity(): void {
    // Counted in getForIdentity.
  }
}

export interface RateLimitRule {
  /** Names the bucket; operations that share a name share a budget (e.g. "login"). */
  name: string;
  max: number;
  windowMs: number;
}

/**
 * What to count a call against: the client IP, an account (normalised email or user id), an
 * account+IP pair, or a known device (sign-in).
 */
export type RateLimitSubject = { kind: 'ip' | 'account' | 'pair' | 'device'; id: string };

export function rateLimitedError(retryAfterSeconds: number, message = 'Too many attempts; try again later'): AppError {
  return new AppError('RATE_LIMITED', message, { retryAfterSeconds });
}

/**
 * Rate limits through graphql-rate-limit's getGraphQLRateLimiter on an atomic CounterStore
 * (Redis or memory). Each resolver call counts, so aliases in one request each spend an attempt.
 */
export class RateLimiter {
  private readonly limiters = new Map<number, Promise<ReturnType<typeof getGraphQLRateLimiter>>>();

  constructor(private readonly counters: CounterStore) {}

  private limiterFor(windowMs: number): Promise<ReturnType<typeof getGraphQLRateLimiter>> {
    let limiter = this.limiters.get(windowMs);
    if (!limiter) {
      // Loaded with the first limited call, not with the server: its bundle also requires graphql-shield (with
      // graphql-middleware and yup, about 160 modules) for a rule this server does not use.
      limiter = import('graphql-rate-limit').then(({ getGraphQLRateLimiter }) =>
        getGraphQLRateLimiter({
          store: new AtomicCounterRateLimitStore(this.counters, windowMs),
          identifyContext: (subject: RateLimitSubject) => `${subject.kind}:${subject.id}`,
          // Batched-request caching would count a call twice on top of the atomic store.
          enableBatchRequestCache: false,
        }),
      );
      this.limiters.set(windowMs, limiter);
    }
    return limiter;
  }

  /** Counts one call of `rule` against `subject`; throws RATE_LIMITED with retryAfterSeconds past `max`. */
  async consume(rule: RateLimitRule, subject: RateLimitSubject): Promise<void> {
    const limiter = await this.limiterFor(rule.windowMs);
    const info = { fieldName: rule.name } as GraphQLResolveInfo;
    const message = await limiter(
      { parent: undefined, args: {}, context: subject, info },
      { max: rule.max, window: `${rule.windowMs}ms` },
    );
    if (message) {
      const key = AtomicCounterRateLimitStore.key({
        contextIdentity: `${subject.kind}:${subject.id}`,
        fieldIdentity: rule.name,
      });
      const state = await this.counters.peek(key);
      throw rateLimitedError(Math.max(1, Math.ceil((state?.ttlMs ?? rule.windowMs) / 1000)));
    }
  }

  /** Forgets what `subject` spent of `rule` (a good sign-in gives its client its budget back). */
  async reset(rule: RateLimitRule, subject: RateLimitSubject): Promise<void> {
    await this.counters.reset(
      AtomicCounterRateLimitStore.key({ contextIdentity: `${subject.kind}:${subject.id}`, fieldIdentity: rule.name }),
    );
  }

  /** Several subjects at once (per IP and per account): every one is counted, the first over its limit throws. */
  async consumeAll(rule: RateLimitRule, subjects: RateLimitSubject[]): Promise<void> {
    let error: unknown;
    for (const s of subjects) {
      try {
        await this.consume(rule, s);
      } catch (e) {
        error ??= e;
      }
    }
    if (error) throw error;
  }
}

export interface RateLimitBucket {
  perIp: RateLimitRule;
  perAccount?: RateLimitRule;
  /** Sign-in only (LoginRateLimits). */
  perPair?: RateLimitRule;
  perDevice?: RateLimitRule;
}

/**
 * Sign-in (LoginGuard): besides the IP, each client has a budget of its own (its account+IP pair,
 * or its device token), and clients that cannot show they are the owner's share one per account.
 */
export interface LoginRateLimits extends RateLimitBucket {
  /** Clients with neither a device token nor an IP the account signed in from: together, per account. */
  perAccount: RateLimitRule;
  perPair: RateLimitRule;
  perDevice: RateLimitRule;
}

const MINUTE = 60_000;

/**
 * The limits of the auth operations, per client IP and per account, in one place. Per account is
 * the tighter one: it is what stops guessing one person's password from many addresses (for
 * sign-in, only for clients that cannot show they are the owner's, so nobody can lock the owner out).
 */
export const AUTH_RATE_LIMITS = {
  login: {
    perIp: { name: 'login', max: 30, windowMs: 15 * MINUTE },
    perAccount: { name: 'login', max: 10, windowMs: 15 * MINUTE },
    perPair: { name: 'login', max: 10, windowMs: 15 * MINUTE },
    perDevice: { name: 'login', max: 10, windowMs: 15 * MINUTE },
  },
  twoFactor: {
    perIp: { name: 'twoFactor', max: 30, windowMs: 15 * MINUTE },
    perAccount: { name: 'twoFactor', max: 10, windowMs: 5 * MINUTE },
  },
  passwordReset: {
    perIp: { name: 'passwordReset', max: 10, windowMs: 60 * MINUTE },
    perAccount: { name: 'passwordReset', max: 3, windowMs: 60 * MINUTE },
  },
  emailVerification: {
    perIp: { name: 'emailVerification', max: 20, windowMs: 60 * MINUTE },
    perAccount: { name: 'emailVerification', max: 3, windowMs: 60 * MINUTE },
  },
  // Per address too: each registration mails the address (a link, or a notice to its owner).
  register: {
    perIp: { name: 'register', max: 10, windowMs: 60 * MINUTE },
    perAccount: { name: 'register', max: 3, windowMs: 60 * MINUTE },
  },
  refresh: { perIp: { name: 'refresh', max: 120, windowMs: 15 * MINUTE } },
  account: {
    perIp: { name: 'account', max: 60, windowMs: 15 * MINUTE },
    perAccount: { name: 'account', max: 10, windowMs: 15 * MINUTE },
  },
} satisfies Record<string, RateLimitBucket>;

export type AuthRateLimitName = keyof typeof AUTH_RATE_LIMITS;
export type AuthRateLimits = Record<AuthRateLimitName, RateLimitBucket> & { login: LoginRateLimits };
