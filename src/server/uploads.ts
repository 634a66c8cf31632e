import type { ErrorRequestHandler } from 'express';
import { AppError } from '../errors';

/** The HTTP status graphql-upload attaches to its errors (http-errors style). */
function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A failure while reading an upload stream, as the client should see it. */
export function uploadError(err: unknown, field = 'files'): AppError {
  if (err instanceof AppError) return err;
  if (statusOf(err) === 413) return new AppError('PAYLOAD_TOO_LARGE', (err as Error).message, { field });
  return new AppError('BAD_USER_INPUT', `Could not read the upload: ${(err as Error).message}`, { field });
}

/**
 * Errors raised before GraphQL runs (a malformed multipart body, too many files, a JSON body over
 * its limit) answer in the GraphQL response shape with a stable code instead of Express's HTML page.
 */
export const transportErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) return next(err);
  const status = statusOf(err) ?? 500;
  const code =
    status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
  const message = status < 500 ? String((err as Error).message ?? 'Bad request') : 'Internal server error';
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
};
