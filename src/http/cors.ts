import type http from 'node:http';
import type { RequestHandler } from 'express';
import { ErrorCode } from '../errors';

/**
 * Which browser pages may use this server: one rule for HTTP (CORS on /graphql and /audio), the
 * WebSocket upgrade and SSE. A request with no `Origin` is not a browser's cross-origin request
 * (curl, servers, the SDKs) and is always served; a browser's is served to a script when its
 * origin is the server's own or one of `HUB_CORS_ORIGINS` (`*`: any, `null` included).
 * Origins compare as browsers serialize them: scheme and host in lower case, a default port left
 * out; anything else (`null`, a path, user info) is no origin and matches only `*`.
 */
export interface OriginPolicy {
  /** Whether the request's Origin (none: yes) may be answered to a script. */
  allows(req: http.IncomingMessage): boolean;
  /** `*` was configured: answers carry `Access-Control-Allow-Origin: *`. */
  readonly any: boolean;
}

/**
 * The response headers the README documents, which scripts on an allowed origin may read
 * (`Access-Control-Expose-Headers`); the CORS-safelisted ones (content-type, cache-control) need not be.
 */
export const EXPOSED_HEADERS = ['x-request-id', 'x-query-cost', 'x-sql-statements', 'x-hub-lsn', 'x-hub-read-pool', 'retry-after'] as const;

/** Methods a preflight may ask for: GET/POST (queries, SSE), PUT (audio uploads, SSE reservations), DELETE (SSE). */
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
/** Browsers may reuse a preflight's answer this long (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `scheme://host[:port]` as a browser serializes it, or undefined when `value` is not such an origin. */
export function normalOrigin(value: string): string | undefined {
  if (!/^https?:\/\/[^/?#@\\\s]+$/i.test(value)) return undefined;
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/** The policy for `HUB_CORS_ORIGINS` (config.ts has checked that each entry is `*` or an origin). */
export function originPolicy(configured: readonly string[]): OriginPolicy {
  const any = configured.includes('*');
  const listed = new Set(configured.map(normalOrigin).filter((o): o is string => o !== undefined));
  return {
    any,
    allows(req) {
      const origin = req.headers.origin;
      if (origin === undefined || any) return true;
      const normal = normalOrigin(origin);
      if (normal === undefined) return false;
      if (listed.has(normal)) return true;
      // The server's own origin (its pages: the playground, the dashboard), on either scheme: a TLS
      // proxy in front may serve it as https.
      const host = req.headers.host;
      return host !== undefined && (normal === normalOrigin(`http://${host}`) || normal === normalOrigin(`https://${host}`));
    },
  };
}

/** The request headers a preflight asks for, kept when each is a header name. */
function requestedHeaders(value: string | undefined): string {
  return (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => TOKEN.test(name))
    .join(', ');
}

/**
 * CORS for the HTTP routes. An allowed origin gets `Access-Control-Allow-Origin` and the exposed
 * headers; its preflight 204 with the methods and the headers it asked for. A preflight from any
 * other origin is answered here, 403 `FORBIDDEN` with no CORS headers (the browser reports a CORS
 * failure), never passed on to Apollo, whose CSRF refusal would mislead. Other requests from such
 * an origin go on without CORS headers: the browser hides the answer from the script, and a
 * simple request (one sent without a preflight) is refused by Apollo's CSRF prevention.
 */
export function corsHandler(policy: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    res.vary('Origin');
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!policy.allows(req)) {
      if (!preflight) return next();
      res.status(403).json({
        errors: [{ message: 'This Origin may not call this server from a browser (HUB_CORS_ORIGINS)', extensions: { code: ErrorCode.FORBIDDEN } }],
      });
      return;
    }
    res.setHeader('access-control-allow-origin', policy.any ? '*' : origin);
    if (!preflight) {
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS.join(', '));
      return next();
    }
    res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    const headers = requestedHeaders(req.headers['access-control-request-headers']);
    if (headers) res.setHeader('access-control-allow-headers', headers);
    res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
    res.status(204).end();
  };
}
