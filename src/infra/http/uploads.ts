import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import type { UploadsConfig } from '../config';
import { MemoryBudget, processMultipart } from './multipart-request';
import { AppError, badInput } from '../errors';

/** The HTTP status graphql-upload attaches to its errors (http-errors style). */
function statusOf(err: unknown): number | undefined {
  const s =
    (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A failure while reading an upload stream, as the client should see it. */
export function uploadError(err: unknown, field = 'files'): AppError {
  if (err instanceof AppError) return err;
  if (statusOf(err) === 413) return new AppError('PAYLOAD_TOO_LARGE', (err as Error).message, { field });
  // The file store's disk is full: nothing is wrong with the file (it was BAD_USER_INPUT before).
  const code = (err as { code?: unknown })?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new AppError('INSUFFICIENT_STORAGE', 'The server has no room to store this file now; try again later', {
      field,
    });
  return badInput(field, `Could not read the upload: ${(err as Error).message}`);
}

/** The caller a multipart request was authenticated as (multipartUploads), so the GraphQL context does not authenticate twice. */
export function uploadCaller<User>(res: Response): User | undefined {
  return res.locals.uploadCaller as User | undefined;
}

/** How the upload door learns who is calling, and who may send model-package-sized files. */
export interface UploadCallers<User> {
  /** The caller from the Authorization header; null when anonymous; throws an UNAUTHENTICATED AppError for a bad token. */
  authenticate(authorization: string | undefined): Promise<User | null>;
  mayUploadPackages(user: User): boolean;
}

/**
 * The multipart (upload) door of the GraphQL path. The caller is authenticated from the headers
 * before a byte of the body is read: an anonymous or badly signed request is answered 401
 * UNAUTHENTICATED in the GraphQL response shape, and its connection is closed so the body is never
 * read (nothing is spooled to disk for anonymous callers). A signed-in caller's files may be as
 * large as an image (UPLOAD_MAX_FILE_BYTES), an admin's as large as a model package
 * (MODEL_PACKAGE_MAX_BYTES; uploading one is ADMIN-only). Other requests pass through untouched.
 */
export function multipartUploads<User>(config: UploadsConfig, callers: UploadCallers<User>): RequestHandler {
  const maxFiles = config.UPLOAD_MAX_FILES;
  // One budget for every request: small files stay in memory while it lasts (processMultipart).
  const memory = new MemoryBudget(config.UPLOAD_MEMORY_BYTES);
  const door = (maxFileSize: number) =>
    graphqlUploadExpress({
      processRequest: (req, res) => processMultipart(req, res, { maxFileSize, maxFiles, memory }),
    });
  const forStaff = door(config.UPLOAD_MAX_FILE_BYTES);
  const forAdmins = door(Math.max(config.UPLOAD_MAX_FILE_BYTES, config.MODEL_PACKAGE_MAX_BYTES));
  return async (req, res, next) => {
    if (!req.is('multipart/form-data')) return next();
    let user: User | null;
    try {
      user = await callers.authenticate(req.headers.authorization);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'UNAUTHENTICATED') return next(err);
      return refuseUnread(res, err);
    }
    if (!user) return refuseUnread(res, new AppError('UNAUTHENTICATED', 'Sign in to upload files'));
    res.locals.uploadCaller = user;
    (callers.mayUploadPackages(user) ? forAdmins : forStaff)(req, res, next);
  };
}

/** 401 without reading the body: `Connection: close` makes Node drop the socket after the answer instead of draining the upload. */
function refuseUnread(res: Response, err: AppError): void {
  const { http: _http, ...extensions } = err.extensions;
  res.setHeader('Connection', 'close');
  res.status(401).json({ errors: [{ message: err.message, extensions: { ...extensions, code: 'UNAUTHENTICATED' } }] });
}

/**
 * Errors raised before GraphQL runs (a malformed multipart body, too many files, a JSON body over
 * its limit) answer in the GraphQL response shape with a stable code instead of Express's HTML page.
 */
export const transportErrorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const status = statusOf(err) ?? 500;
  const code =
    status === 413
      ? 'PAYLOAD_TOO_LARGE'
      : status === 415
        ? 'UNSUPPORTED_MEDIA_TYPE'
        : status >= 400 && status < 500
          ? 'BAD_REQUEST'
          : 'INTERNAL_SERVER_ERROR';
  const message = status < 500 ? String((err as Error).message ?? 'Bad request') : 'Internal server error';
  // The client gets no details of an internal failure; the log gets them, under the request id.
  if (status >= 500) req.log?.error({ err }, 'request failed before GraphQL ran');
  res.status(status).json({
    errors: [{ message, extensions: { code, ...(status >= 500 && req.id ? { requestId: String(req.id) } : {}) } }],
  });
};
