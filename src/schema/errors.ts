import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { unwrapResolverError } from '@apollo/server/errors';
import { AppError, ErrorCodes } from '../infra/errors';
import type { Logger } from '../infra/observability/logger';
import { QUERY_TOO_COMPLEX, queryLimitOf } from '../infra/http/armor';

/** Codes raised by the GraphQL layer itself (parsing, validation, armor limits): shown as they are. */
const PROTOCOL_CODES = new Set([
  QUERY_TOO_COMPLEX,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);
const CLIENT_CODES = new Set<string>([...ErrorCodes, ...PROTOCOL_CODES]);

/** A domain error as GraphQL sees it, for the transports that build GraphQL errors themselves (graphql-ws hooks). */
export function toGraphQLError(err: AppError): GraphQLError {
  return new GraphQLError(err.message, { originalError: err, extensions: { ...err.extensions } });
}

/** The request an unexpected error happened in, recorded where it was thrown (guard.ts). */
const requestIds = new WeakMap<object, string>();

/** Remembers which request `err` belongs to, so the formatter can log and report that id. */
export function tagRequestId(err: unknown, requestId: unknown): unknown {
  if (err !== null && typeof err === 'object' && typeof requestId === 'string' && !requestIds.has(err))
    requestIds.set(err, requestId);
  return err;
}

export function requestIdOf(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' ? requestIds.get(err) : undefined;
}

/** The answer for anything unexpected: the same in every NODE_ENV, and nothing from inside the server. */
export function internalError(requestId?: string): { message: string; extensions: Record<string, unknown> } {
  return {
    message: 'Internal server error',
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  };
}

/**
 * Every error leaves with an `extensions.code`. Errors we raised on purpose keep their message;
 * anything unexpected (a bug, a database failure) is logged in full with its request id and reported
 * as INTERNAL_SERVER_ERROR with that id and nothing else: no message, stack, SQL or path, in any mode
 * (development included: a developer reads the log; a caller on the network must not see SQL text).
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Over a size limit: QUERY_TOO_COMPLEX with its reason, whichever layer refused it (Apollo files
    // depth and alias refusals under GRAPHQL_VALIDATION_FAILED and the token limit under GRAPHQL_PARSE_FAILED).
    const limit = queryLimitOf(error);
    if (limit) {
      const { http: _http, ...extensions } = limit.extensions;
      return { message: limit.message, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions };
    }
    const original = unwrapResolverError(error);
    const code =
      (formatted.extensions?.code as string | undefined) ??
      (original instanceof GraphQLError ? (original.extensions?.code as string | undefined) : undefined);
    if (original instanceof AppError || (code && CLIENT_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR')) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code: code ?? 'INTERNAL_SERVER_ERROR' } };
    }
    const requestId = requestIdOf(original) ?? requestIdOf(error);
    logger.error({ err: original, path: formatted.path, reqId: requestId }, 'unexpected error in a GraphQL operation');
    return { ...internalError(requestId), locations: formatted.locations, path: formatted.path };
  };
}

/**
 * The last handlers of the Express app. Express's own final handler prints the error's stack (with
 * file paths) as HTML outside production, and its 404 page is HTML too: every route answers JSON in
 * the GraphQL error shape instead, and an unexpected error only says which request to look for.
 */
export function notFoundHandler(): RequestHandler {
  return (_req, res) => {
    res.status(404).json({ errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
  };
}

export function finalErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    const requestId = typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : undefined;
    logger.error({ err, reqId: requestId, path: req.path }, 'unexpected error in an HTTP route');
    if (res.headersSent) return next(err); // Express then closes the connection; nothing more is sent
    res
      .status(500)
      .set('cache-control', 'no-store')
      .json({ errors: [internalError(requestId)] });
  };
}
