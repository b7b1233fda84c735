import { GraphQLFormattedError } from 'graphql';
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { ErrorCode, isSafeInternal, PUBLIC_CODES, unavailable } from './errors';
import { Logger } from './logger';
import { CLIENT_LEFT, isClientGone } from './http/client-errors';

// Apollo's own request errors are bad input in this API's vocabulary.
const REQUEST_ERRORS: ReadonlySet<string> = new Set([
  ApolloServerErrorCode.GRAPHQL_PARSE_FAILED,
  ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED,
  ApolloServerErrorCode.BAD_REQUEST,
  ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
  ApolloServerErrorCode.PERSISTED_QUERY_NOT_FOUND,
]);

// graphql-js's suggestions: `Did you mean "x"?`, `Did you mean the enum value "X"?`,
// `Did you mean "a", "b", or "c"?` — in validation and in variable coercion messages alike.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** A message without graphql-js's suggestions, which would name schema parts a client did not ask for. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/**
 * Keeps errors inside the vocabulary: known codes pass with their message and extensions
 * (never a stack), request errors become BAD_USER_INPUT, and anything else is logged with
 * the request id and returned as a masked INTERNAL_SERVER_ERROR with no SQL or constraint names.
 * In production no message carries a "Did you mean …" suggestion.
 */
export function formatError(logger: Logger, options: { production?: boolean } = {}) {
  const format = formatErrorIn(logger);
  if (!options.production) return format;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    const validation = result.extensions?.validation;
    return {
      ...result,
      message: withoutSuggestions(result.message),
      ...(Array.isArray(validation)
        ? { extensions: { ...result.extensions, validation: validation.map((v: { field: string; message: string }) => ({ ...v, message: withoutSuggestions(String(v.message)) })) } }
        : {}),
    };
  };
}

function formatErrorIn(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '');
    const { stacktrace: _stack, http: _http, ...extensions } = formatted.extensions ?? {};
    const original = unwrapResolverError(error);
    // Apollo also raises request errors with only an HTTP 4xx status and no code (e.g. an
    // automatic persisted query whose sha does not match): bad input too, not an internal error.
    const httpStatus = (original as { extensions?: { http?: { status?: unknown } } } | undefined)?.extensions?.http?.status;
    const uncoded4xx = (!PUBLIC_CODES.has(code) || code === ErrorCode.INTERNAL_SERVER_ERROR) && typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500;
    if (REQUEST_ERRORS.has(code) || uncoded4xx) {
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
    if (code === ErrorCode.BAD_USER_INPUT && !Array.isArray(extensions.validation)) {
      // Apollo's own BAD_USER_INPUT (a variable that does not coerce) gets the promised `validation` list.
      const variable = /^Variable "\$(\w+)"/.exec(formatted.message)?.[1];
      return { ...formatted, extensions: { ...extensions, validation: [{ field: variable ?? 'query', message: formatted.message }] } };
    }
    if ((PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) || isSafeInternal(original)) {
      return { ...formatted, extensions };
    }
    if (isClientGone(original)) {
      // The client left (its request aborted, its stream closed): nobody reads this answer, and
      // nothing is wrong with the server or the database.
      logger.info({ path: formatted.path, reason: String((original as Error).message) }, CLIENT_LEFT);
      return { message: 'The client went away', locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
    if (isDatabaseUnavailable(original)) {
      // Lost the database mid-request (restart, failover): the same clear answer as a failed auth lookup.
      logger.warn({ err: original, path: formatted.path }, 'database unavailable during the request');
      return {
        message: unavailable().message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

// SQLSTATE class 08 (connection exception) and the shutdown family of class 57.
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[1-4])$/;
const UNAVAILABLE_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
// What node-postgres says when a socket drops or a connection cannot be made in time.
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused/i;
// TypeORM releases a query runner whose connection emitted an error; the transaction's next
// statement then fails with these instead of the connection error itself.
const RELEASED_RUNNER = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError']);

/** True when an error means PostgreSQL cannot be reached or dropped the connection (not a bug: retry later).
 * A client's own aborted request also says ECONNRESET; it is the client's (isClientGone), not this. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (isClientGone(error)) return false;
  type Wrapped = { code?: unknown; message?: unknown; name?: unknown; originalError?: unknown; driverError?: unknown; cause?: unknown };
  let e: Wrapped | undefined = typeof error === 'object' && error !== null ? error : undefined;
  for (let depth = 0; e && depth < 5; depth += 1) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NET_CODES.has(code))) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    if (typeof e.name === 'string' && RELEASED_RUNNER.has(e.name)) return true;
    const next: unknown = e.originalError ?? e.driverError ?? e.cause;
    e = typeof next === 'object' && next !== null ? next : undefined;
  }
  return false;
}
