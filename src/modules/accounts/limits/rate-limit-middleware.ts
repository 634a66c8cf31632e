import type { MiddlewareFn } from 'type-graphql';
import type { AppContext } from '../../../schema/context';
import { normalizeEmail } from '../mail/email-address';
import type { AuthRateLimitName, RateLimitSubject } from './rate-limit';

/** Which account a call is about, from its arguments or the caller (null: count per IP only). */
export type AccountOf = (args: Record<string, unknown>, ctx: AppContext) => string | null | Promise<string | null>;

export const accountFromEmailArg: AccountOf = (args) =>
  typeof args.email === 'string' && args.email.length <= 1024 ? `email:${normalizeEmail(args.email)}` : null;
/** register: the address in its input, counted whether or not it has an account. */
export const accountFromRegisterInput: AccountOf = (args, ctx) =>
  accountFromEmailArg((args.input ?? {}) as Record<string, unknown>, ctx);
export const accountFromCaller: AccountOf = (_args, ctx) => (ctx.user ? `user:${ctx.user.id}` : null);
/** verifyTwoFactor: the account named by a valid challenge token (an invalid one fails later anyway). */
export const accountFromChallenge: AccountOf = async (args, ctx) => {
  if (typeof args.challengeToken !== 'string') return null;
  try {
    return `user:${(await ctx.services.auth.jwt.verifyChallengeToken(args.challengeToken)).sub}`;
  } catch {
    return null;
  }
};

/**
 * type-graphql middleware: counts the call per client IP and per account before the resolver runs;
 * RATE_LIMITED with retryAfterSeconds once over. Every field resolution counts, so several aliases
 * of `login` in one request spend several attempts.
 */
export function RateLimit(name: AuthRateLimitName, accountOf?: AccountOf): MiddlewareFn<AppContext> {
  return async ({ args, context }, next) => {
    const { rateLimiter: limiter, rateLimits } = context.services.auth;
    const bucket = rateLimits[name];
    await limiter.consume(bucket.perIp, { kind: 'ip', id: context.ip || 'unknown' });
    if (bucket.perAccount && accountOf) {
      const account = await accountOf(args, context);
      if (account)
        await limiter.consume(bucket.perAccount, { kind: 'account', id: account } satisfies RateLimitSubject);
    }
    return next();
  };
}
