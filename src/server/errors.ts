import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AppError, ErrorCodes } from '../errors';
import type { Logger } from './logger';

/** Codes raised by the GraphQL layer itself (parsing, validation, armor limits): shown as they are. */
const PROTOCOL_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);
const CLIENT_CODES = new Set<string>([...ErrorCodes, ...PROTOCOL_CODES]);

/**
 * Every error leaves with an `extensions.code`. Errors we raised on purpose keep their message;
 * anything unexpected (a bug, a database failure) is logged in full and reported as
 * INTERNAL_SERVER_ERROR with no stack, SQL or path, unless `exposeDetails` (development).
 */
export function createErrorFormatter(logger: Logger, exposeDetails: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = (formatted.extensions?.code as string | undefined) ?? (original instanceof GraphQLError ? (original.extensions?.code as string | undefined) : undefined);
    if (original instanceof AppError || (code && CLIENT_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR')) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code: code ?? 'INTERNAL_SERVER_ERROR' } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return {
      message: exposeDetails ? formatted.message : 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: exposeDetails
        ? { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' }
        : { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
