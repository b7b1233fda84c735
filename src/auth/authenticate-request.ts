import { GraphQLError } from 'graphql';
import { unauthenticated, unavailable } from '../errors';
import { isUuid } from '../ids';
import { verifiedToken } from './tokens';
import { Viewer } from './viewer';

/** Who a request is: the user's row, the viewer authorization reads, and when the token expires. */
export interface Authenticated<U> {
  user: U;
  viewer: Viewer;
  /** The bearer token's `exp`, in ms since the epoch: live connections end then. */
  expiresAt: number;
  /** The user came from `remembered`, not from a lookup: the caller must still confirm them. */
  remembered: boolean;
}

export interface AuthenticatorOptions<U> {
  secret: string;
  /** HUB_MAX_TOKEN_TTL: a token expiring further ahead is refused. */
  maxTokenTtlSeconds?: number;
  /** The token's user (one lookup), or undefined when it no longer exists. */
  findUser(id: string): Promise<U | undefined>;
  /** A user an earlier lookup found, taken without a lookup; whoever receives it (`remembered:
   * true`) confirms them before answering (src/users/viewer-confirmation.ts). */
  remembered?(id: string): U | undefined;
  viewerOf(user: U): Viewer;
  /** The lookup itself failed (the database): reported here, answered as `unavailable()`. */
  onLookupFailure(error: unknown): void;
}

/** One Bearer pattern for every transport: the scheme is case-insensitive, the token one word. */
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Authenticates an `Authorization` value, the same for POST /graphql, WebSocket and SSE. A
 * missing, malformed, expired or forged token, one without `exp` or expiring further ahead than
 * `maxTokenTtlSeconds`, or a token whose user no longer exists, is UNAUTHENTICATED; a lookup
 * that fails (the database unreachable) is the coded 503 of `unavailable()`, never a 500.
 */
export function requestAuthenticator<U>(options: AuthenticatorOptions<U>) {
  return async function authenticateRequest(authorization: string | undefined): Promise<Authenticated<U>> {
    const match = BEARER.exec(authorization ?? '');
    if (!match) throw unauthenticated();
    const token = verifiedToken(options.secret, match[1], options.maxTokenTtlSeconds);
    if (!token || !isUuid(token.userId)) throw unauthenticated('The bearer token is invalid or expired');
    const known = options.remembered?.(token.userId);
    if (known) return { user: known, viewer: options.viewerOf(known), expiresAt: token.expiresAt, remembered: true };
    let user: U | undefined;
    try {
      user = await options.findUser(token.userId);
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      options.onLookupFailure(error);
      throw unavailable();
    }
    if (!user) throw unauthenticated('The bearer token belongs to no user');
    return { user, viewer: options.viewerOf(user), expiresAt: token.expiresAt, remembered: false };
  };
}

export type AuthenticateRequest<U> = ReturnType<typeof requestAuthenticator<U>>;
