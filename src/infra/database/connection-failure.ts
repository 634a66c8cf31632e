/**
 * Whether an error says a backing service could not be reached (refused, reset, shutting down,
 * restarting) rather than anything about the work itself. A job attempt that failed so tells
 * nothing about the job: it is tried again later without using one of its attempts.
 */

/** PostgreSQL SQLSTATEs of a server that cannot serve now: shutdown (57P0x), connection exceptions (08xxx), too many connections. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);
/** Socket errors of a connection refused, cut or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** node-postgres and knex say these without a code. */
const MESSAGES =
  /Connection terminated|connection error|Timeout acquiring a connection|the database system is (shutting down|starting up)/i;

export function isConnectionFailure(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; sqlState?: unknown; message?: unknown; cause?: unknown; previous?: unknown };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code))) return true;
  if (typeof e.sqlState === 'string' && UNAVAILABLE_SQLSTATES.has(e.sqlState)) return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  // MikroORM keeps the driver's error as `previous`; AggregateError (a refused IPv4 and IPv6) as `errors`.
  const errors = (err as { errors?: unknown }).errors;
  return (
    isConnectionFailure(e.cause, depth + 1) ||
    isConnectionFailure(e.previous, depth + 1) ||
    (Array.isArray(errors) && errors.some((x) => isConnectionFailure(x, depth + 1)))
  );
}
