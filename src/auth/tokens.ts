import { createSecretKey, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { BoundedMap } from '../common/bounded-map';

/** Clock skew tolerated on `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** A day: a token whose `exp` lies further ahead than `HUB_MAX_TOKEN_TTL` (this by default) is refused. */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 24 * 3600;

/** Parses a lifetime such as `30m`, `12h`, `7d` or `3600` (seconds) into seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

// jsonwebtoken turns a string secret into a KeyObject on every call, first trying (and failing,
// with a thrown error) to read it as a public key: on the hot path that cost more than the HMAC.
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret))));
  return key;
}

/** Signs a bearer token for a user (HS256, `sub` = user id). */
export function signToken(secret: string, userId: string, ttlSeconds: number): string {
  return jwt.sign({}, keyOf(secret), { algorithm: 'HS256', subject: userId, expiresIn: ttlSeconds });
}

/**
 * The user id of a valid token, or undefined for a forged, expired, early or malformed one.
 * Only HS256 is accepted, so `alg: none` and algorithm-confusion tokens fail. A token must
 * expire (`exp`), and no later than `maxTtlSeconds` from now: a leaked token is bounded in time
 * even when whoever signed it asked for more.
 */
export function verifyToken(secret: string, token: string, maxTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS, nowMs = Date.now()): string | undefined {
  return verifiedToken(secret, token, maxTtlSeconds, nowMs)?.userId;
}

/** What a valid token says: whose it is and when it expires (ms since the epoch). */
export interface VerifiedToken {
  userId: string;
  expiresAt: number;
}

/** `verifyToken` with the token's expiry, read from the same verification (no second decode). */
export function verifiedToken(secret: string, token: string, maxTtlSeconds = DEFAULT_MAX_TOKEN_TTL_SECONDS, nowMs = Date.now()): VerifiedToken | undefined {
  const now = nowMs / 1000;
  const claims = verifiedClaims(secret, token, now);
  if (!claims) return undefined;
  // The time checks jsonwebtoken makes, made again on every use of a remembered signature.
  if (now >= claims.exp + CLOCK_TOLERANCE_SECONDS) return undefined;
  if (claims.nbf !== undefined && claims.nbf > now + CLOCK_TOLERANCE_SECONDS) return undefined;
  if (claims.exp > now + maxTtlSeconds + CLOCK_TOLERANCE_SECONDS) return undefined;
  return { userId: claims.sub, expiresAt: claims.exp * 1000 };
}

interface Claims {
  sub: string;
  exp: number;
  nbf?: number;
}

/** Tokens whose signature was verified, by secret and text; a token is a client's for its lifetime. */
const VERIFIED_TOKENS = 10_000;
const verified = new BoundedMap<string, Claims>(VERIFIED_TOKENS);

/**
 * The claims of a token whose signature and claims' shape are valid, verified once per process:
 * a dashboard sends the same token with every request, and the HMAC and JSON decoding of it were a
 * few per cent of a small request. Only the signature check is remembered; the time checks run on
 * every use (`verifyToken`). A forged or malformed token is never remembered.
 */
function verifiedClaims(secret: string, token: string, now: number): Claims | undefined {
  const key = `${secret.length}:${secret}:${token}`;
  const known = verified.get(key);
  if (known) return known;
  let claims: Claims;
  try {
    const payload = jwt.verify(token, keyOf(secret), {
      algorithms: ['HS256'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      clockTimestamp: Math.floor(now),
    });
    if (typeof payload !== 'object' || typeof payload.sub !== 'string') return undefined;
    // jsonwebtoken checks `exp` only when present, and only that it is a number.
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return undefined;
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || !Number.isFinite(payload.nbf))) return undefined;
    claims = { sub: payload.sub, exp: payload.exp, ...(payload.nbf !== undefined ? { nbf: payload.nbf } : {}) };
  } catch {
    return undefined;
  }
  verified.set(key, claims);
  return claims;
}
