import { GraphQLFormattedError } from 'graphql';
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { ErrorCode, PUBLIC_CODES } from './errors';
import { Logger } from './logger';

// Apollo's own request errors are bad input in this API's vocabulary.
const REQUEST_ERRORS: ReadonlySet<string> = new Set([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
]);

/**
 * Keeps errors inside the vocabulary: known codes pass with their message and extensions
 * (never a stack), request errors become BAD_USER_INPUT, and anything else is logged with
 * the request id and returned as a masked INTERNAL_SERVER_ERROR with no SQL or constraint names.
 */
export function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '');
    const { stacktrace: _stack, http: _http, ...extensions } = formatted.extensions ?? {};
    if (REQUEST_ERRORS.has(code)) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        extensions: {
          ...extensions,
          code: ErrorCode.BAD_USER_INPUT,
          validation: [{ field: 'query', message: formatted.message }],
        },
      };
    }
    if (PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return { ...formatted, extensions };
    }
    const original = unwrapResolverError(error);
    logger.error({ err: original, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
