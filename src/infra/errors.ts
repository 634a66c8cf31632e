/** The stable codes a client may see in `extensions.code` (docs/errors.md). */
export const ErrorCodes = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'MODEL_UNAVAILABLE',
  'INSUFFICIENT_STORAGE',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/**
 * An error meant for the client: its message, code and details are shown as they are. It knows
 * nothing of GraphQL: the edge (src/schema/errors.ts, and graphql-js itself, which copies an
 * original error's `extensions`) turns it into a GraphQL error. Anything else thrown is logged and
 * reported as INTERNAL_SERVER_ERROR.
 */
export class AppError extends Error {
  /** `code` plus the details a client sees beside it (`field`, `reason`, ...). */
  readonly extensions: Readonly<Record<string, unknown>> & { code: ErrorCode };

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.extensions = { ...details, code };
  }
}

/** The code of an error a client may see, or INTERNAL_SERVER_ERROR for anything else. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof AppError ? err.code : 'INTERNAL_SERVER_ERROR';
}

/** Bad input in one field; `reason` is a stable machine-readable word where a client may branch on it. */
export const badInput = (field: string, message: string, details: Record<string, unknown> = {}) =>
  new AppError('BAD_USER_INPUT', message, { field, ...details });
export const notFound = (what: string, details: Record<string, unknown> = {}) =>
  new AppError('NOT_FOUND', `${what} not found`, details);
export const forbidden = (message = 'You are not allowed to do this') => new AppError('FORBIDDEN', message);
export const unauthenticated = (message = 'Sign in first', details: Record<string, unknown> = {}) =>
  new AppError('UNAUTHENTICATED', message, details);
export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('CONFLICT', message, details);
