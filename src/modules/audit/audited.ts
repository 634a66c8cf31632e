import { createMethodMiddlewareDecorator } from 'type-graphql';
import { errorCodeOf } from '../../infra/errors';
import type { AppContext } from '../../schema/context';
import type { AuditAction } from './audit-action';
import { createAuditWriter, type RequestMeta } from './audit-writer';

type Details = Record<string, unknown>;

/** Where the request came from, for an audit row. */
export const requestMeta = (ctx: AppContext): RequestMeta => ({
  ip: ctx.ip,
  userAgent: ctx.userAgent,
  requestId: ctx.requestId,
});

/** What an outcome returns when the call changed nothing: no row is written. */
export const NOTHING_CHANGED = Symbol('nothing changed');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface AuditedOptions<A = any, R = any, B = undefined> {
  /** The account the row is about (a uuid or nothing); the admin who called is the row's actor. */
  userId?: (args: A, result?: R) => string | null | undefined;
  /** Details known from the arguments, on the success row and the failure row. */
  details?: (args: A) => Details;
  /** Read before the call, for `outcome` (e.g. the value a change replaces); its failure is the call's. */
  before?: (args: A, ctx: AppContext) => Promise<B>;
  /** Details added to the success row from the result; NOTHING_CHANGED writes no row. */
  outcome?: (result: R, args: A, before: B) => Details | typeof NOTHING_CHANGED;
}

/**
 * Method middleware for admin mutations: writes an audit row of `action` (or the action the
 * arguments name) once the resolver has run, with the caller as actor and the request's IP and
 * user agent. Success: `success: true`, `details` plus `outcome`. Failure: `success: false`,
 * `details` plus the error's code (`errorCodeOf`), and the error is thrown on. Runs after
 * `@Authorized`, so refused callers leave no row. The row is written with the request's
 * EntityManager, outside any transaction, so a failed write is logged and never fails the call.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function Audited<A = any, R = any, B = undefined>(
  action: AuditAction | ((args: A) => AuditAction),
  options: AuditedOptions<A, R, B> = {},
): MethodDecorator {
  return createMethodMiddlewareDecorator<AppContext>(async ({ args, context: ctx }, next) => {
    const a = args as A;
    const write = (success: boolean, details: Details, result?: R) =>
      createAuditWriter(ctx.logger)(ctx.em, typeof action === 'function' ? action(a) : action, {
        userId: options.userId?.(a, result) ?? null,
        actorId: ctx.user?.id ?? null,
        success,
        meta: requestMeta(ctx),
        // A row with nothing to add keeps details null, as rows written by the services do.
        details: Object.keys(details).length ? details : undefined,
      });
    const known = options.details?.(a) ?? {};
    let before: B;
    let result: R;
    try {
      before = (options.before ? await options.before(a, ctx) : undefined) as B;
      result = (await next()) as R;
    } catch (err) {
      await write(false, { ...known, error: errorCodeOf(err) });
      throw err;
    }
    const outcome = options.outcome ? options.outcome(result, a, before) : {};
    if (outcome !== NOTHING_CHANGED) await write(true, { ...known, ...outcome }, result);
    return result;
  });
}
