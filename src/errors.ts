import { GraphQLError } from 'graphql';

/** The one error vocabulary of the API (`extensions.code`). */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  CONFLICT = 'CONFLICT',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

export const PUBLIC_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** One invalid input field, as listed in `extensions.validation`. */
export interface FieldProblem {
  field: string;
  message: string;
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
};

function apiError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...extensions, ...(status ? { http: { status } } : {}) },
  });
}

export function unauthenticated(message = 'A valid bearer token is required'): GraphQLError {
  return apiError(ErrorCode.UNAUTHENTICATED, message);
}

export function forbidden(message = 'This operation needs the ADMIN role'): GraphQLError {
  return apiError(ErrorCode.FORBIDDEN, message);
}

/** Also what a member gets for another member's rows: existence is never leaked. */
export function notFound(what: string, id?: string): GraphQLError {
  return apiError(ErrorCode.NOT_FOUND, id ? `${what} ${id} not found` : `${what} not found`);
}

export function badUserInput(validation: FieldProblem[], message?: string): GraphQLError {
  const summary = message ?? `Invalid input: ${validation.map((v) => `${v.field}: ${v.message}`).join('; ')}`;
  return apiError(ErrorCode.BAD_USER_INPUT, summary, { validation });
}

export function badField(field: string, message: string): GraphQLError {
  return badUserInput([{ field, message }]);
}

/** A write that would take a requester past a bound: BAD_USER_INPUT naming the bound's variable in `extensions.limit`. */
export function overLimit(field: string, message: string, limit: string): GraphQLError {
  return apiError(ErrorCode.BAD_USER_INPUT, message, { validation: [{ field, message }], limit });
}

/** CONFLICT; `extensions` says what the caller needs to recover (e.g. a stream's current `length`). */
export function conflict(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return apiError(ErrorCode.CONFLICT, message, extensions);
}

/** Internal errors whose message we wrote ourselves and may show (formatError masks all others). */
const SAFE_INTERNAL = new WeakSet<GraphQLError>();

export function isSafeInternal(error: unknown): boolean {
  return error instanceof GraphQLError && SAFE_INTERNAL.has(error);
}

/** The database cannot be reached: fail fast with 503 and a clear, safe message. */
export function unavailable(): GraphQLError {
  const error = new GraphQLError('The database is unavailable; try again shortly', {
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, http: { status: 503 } },
  });
  SAFE_INTERNAL.add(error);
  return error;
}

/**
 * A row a non-null field promises (an owner, a message's session). The foreign keys keep it
 * while its child lives, so when it is missing a concurrent delete removed it after this
 * request read the child (a batch reads each loader once, not all at one instant): the field is
 * NOT_FOUND and, by GraphQL's null propagation, its nullable parent null. Never a silent null
 * in a non-null field, never INTERNAL.
 */
export async function required<T>(value: Promise<T | null | undefined>, what: string, id: string): Promise<T> {
  const resolved = await value;
  if (resolved === null || resolved === undefined) throw notFound(what, id);
  return resolved;
}

/** `required` of a value a loader may hand over at once (a list primed it): then without a promise. */
export function requiredNow<T>(value: T | null | undefined | Promise<T | null | undefined>, what: string, id: string): T | Promise<T> {
  return value instanceof Promise || value === null || value === undefined ? required(Promise.resolve(value), what, id) : value;
}
