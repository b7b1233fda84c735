/**
 * Issue #25, item 3: CORS as browsers meet it, with one Origin rule for HTTP, WebSocket and SSE
 * (src/http/cors.ts). Generated over origins (listed, the server's own, strangers; case, port,
 * scheme and shape variants; `null`, absent, junk) and three configurations (none, a list, `*`):
 * a preflight from an origin not allowed is a CORS refusal (403, no Access-Control-Allow-Origin),
 * never Apollo's CSRF 400; an allowed one gets the methods and headers it asked for; answers to
 * allowed origins expose every header the README documents; a simple request (no preflight) is
 * still refused by the CSRF prevention, from any origin; a WebSocket opens exactly when the
 * same rule allows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { EXPOSED_HEADERS } from '../../src/http/cors';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { RawAnswer, rawRequest } from '../support/raw-http';

const LISTED = { scheme: 'https', host: 'dash.example.com', port: '' };
/** How the list is written: case and a default port that browsers never send. */
const CONFIGURED = 'HTTPS://Dash.Example.COM:443, http://tools.example:8080';
const STRANGER = { scheme: 'https', host: 'elsewhere.example', port: '' };

type Base = 'listed' | 'own' | 'stranger';
const VARIANTS = ['exact', 'upper', 'defaultPort', 'otherPort', 'otherScheme', 'trailingSlash', 'subdomain', 'suffix'] as const;
type Variant = (typeof VARIANTS)[number];

/** An origin made from a base by a variant, and whether the list (and the server's own origin) allows it. */
interface Case {
  origin: string | undefined;
  /** Allowed with HUB_CORS_ORIGINS=CONFIGURED, and with none configured. */
  listed: boolean;
  unlisted: boolean;
}

function variantOf(base: { scheme: string; host: string; port: string }, variant: Variant): string {
  const port = base.port ? `:${base.port}` : '';
  const other = base.scheme === 'https' ? 'http' : 'https';
  switch (variant) {
    case 'exact':
      return `${base.scheme}://${base.host}${port}`;
    case 'upper':
      return `${base.scheme.toUpperCase()}://${base.host.toUpperCase()}${port}`;
    case 'defaultPort':
      return `${base.scheme}://${base.host}${port || (base.scheme === 'https' ? ':443' : ':80')}`;
    case 'otherPort':
      return `${base.scheme}://${base.host}:${base.port ? Number(base.port) + 1 : 8443}`;
    case 'otherScheme':
      return `${other}://${base.host}${port}`;
    case 'trailingSlash':
      return `${base.scheme}://${base.host}${port}/`;
    case 'subdomain':
      return `${base.scheme}://evil.${base.host}${port}`;
    case 'suffix':
      return `${base.scheme}://${base.host}.evil.net${port}`;
  }
}

/** The oracle, written apart from the code: the same origin as a browser serializes it, and the
 * server's own host on either scheme (a TLS proxy may front it). */
function allowedVariant(base: Base, variant: Variant): boolean {
  if (base === 'stranger') return false;
  if (variant === 'exact' || variant === 'upper' || variant === 'defaultPort') return true;
  return base === 'own' && variant === 'otherScheme';
}

function cases(own: { scheme: string; host: string; port: string }): fc.Arbitrary<Case> {
  const made = fc.tuple(fc.constantFrom<Base>('listed', 'own', 'stranger'), fc.constantFrom(...VARIANTS)).map(([base, variant]): Case => {
    const origin = variantOf(base === 'listed' ? LISTED : base === 'own' ? own : STRANGER, variant);
    const allowed = allowedVariant(base, variant);
    return { origin, listed: allowed, unlisted: allowed && base === 'own' };
  });
  const junk = fc.stringMatching(/^[!-~]{1,40}$/).filter((s) => !/^https?:\/\//i.test(s)).map((origin): Case => ({ origin, listed: false, unlisted: false }));
  return fc.oneof(
    { weight: 6, arbitrary: made },
    { weight: 1, arbitrary: fc.constant<Case>({ origin: 'null', listed: false, unlisted: false }) },
    { weight: 1, arbitrary: fc.constant<Case>({ origin: undefined, listed: true, unlisted: true }) },
    { weight: 1, arbitrary: junk },
  );
}

const PATHS = ['/graphql', '/graphql/stream', '/audio/uploads/00000000-0000-0000-0000-000000000000.webm'];
const REQUEST_HEADERS = ['content-type', 'authorization', 'x-request-id', 'x-hub-lsn', 'x-graphql-event-stream-token', 'apollographql-client-name'];

function headerList(answer: RawAnswer, name: string): string[] {
  const value = answer.headers[name];
  return typeof value === 'string' ? value.split(',').map((v) => v.trim().toLowerCase()) : [];
}

/** Whether a WebSocket upgrade with this Origin opens (or the status it is refused with). */
function upgrade(url: string, origin: string | undefined): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', origin === undefined ? {} : { headers: { origin } });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    // After a refusal, terminate() may report the aborted handshake too: the answer is already in.
    socket.on('error', (error) => reject(error));
  });
}

const configs: { name: string; env: Record<string, string>; allowed: (c: Case) => boolean; any: boolean }[] = [
  { name: 'none configured', env: {}, allowed: (c: Case) => c.unlisted, any: false },
  { name: 'a list', env: { HUB_CORS_ORIGINS: CONFIGURED }, allowed: (c: Case) => c.listed, any: false },
  { name: '*', env: { HUB_CORS_ORIGINS: '*' }, allowed: () => true, any: true },
];

describe.each(configs)('CORS with HUB_CORS_ORIGINS: $name', ({ env, allowed, any }) => {
  let t: TestServer;
  let member: User;
  beforeAll(async () => {
    t = await startTestServer(env);
    member = await factories(t.dataSource).user();
  });
  afterAll(() => t?.close());
  const own = () => {
    const url = new URL(t.url);
    return { scheme: 'http', host: url.hostname, port: url.port };
  };
  const expectAllowOrigin = (answer: RawAnswer, c: Case) =>
    expect(answer.headers['access-control-allow-origin']).toBe(c.origin !== undefined && allowed(c) ? (any ? '*' : c.origin) : undefined);

  it('answers preflights with CORS: allowed origins get what they asked for, others 403 with no CORS headers, never a CSRF 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        cases(own()),
        fc.constantFrom(...PATHS),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc.subarray(REQUEST_HEADERS, { minLength: 1 }),
        async (c, route, method, asked) => {
          const headers: Record<string, string> = { 'access-control-request-method': method, 'access-control-request-headers': asked.join(', ') };
          if (c.origin !== undefined) headers.origin = c.origin;
          const answer = await rawRequest(`${t.base}${route}`, { method: 'OPTIONS', headers });
          expect(answer.status).toBeLessThan(500);
          expectAllowOrigin(answer, c);
          if (c.origin === undefined) return; // not a browser's preflight: no CORS answer at all
          expect(answer.text).not.toMatch(/Cross-Site Request Forgery|CSRF/i);
          expect(headerList(answer, 'vary')).toContain('origin');
          if (allowed(c)) {
            expect(answer.status).toBe(204);
            expect(headerList(answer, 'access-control-allow-methods')).toContain(method.toLowerCase());
            expect(headerList(answer, 'access-control-allow-headers')).toEqual(asked);
            expect(answer.headers['access-control-max-age']).toBe('600');
          } else {
            expect(answer.status).toBe(403);
            expect(answer.json.errors[0].extensions.code).toBe('FORBIDDEN');
            expect(answer.json.errors[0].message).toContain('HUB_CORS_ORIGINS');
            expect(answer.headers['access-control-allow-methods']).toBeUndefined();
            expect(answer.headers['access-control-allow-headers']).toBeUndefined();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('runs requests that came through a preflight, exposing the documented headers to allowed origins only', async () => {
    const token = t.tokenFor(member);
    await fc.assert(
      fc.asyncProperty(cases(own()), async (c) => {
        const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
        if (c.origin !== undefined) headers.origin = c.origin;
        const answer = await rawRequest(t.url, { headers, body: JSON.stringify({ query: '{ me { id } }' }) });
        // The server answers; whether the page's script may read it is the browser's part.
        expect(answer.status).toBe(200);
        expect(answer.json.data).toEqual({ me: { id: member.id } });
        expectAllowOrigin(answer, c);
        const exposed = headerList(answer, 'access-control-expose-headers');
        if (c.origin !== undefined && allowed(c)) {
          expect(exposed).toEqual([...EXPOSED_HEADERS]);
          // Every x- header this answer carries is among them.
          const extra = Object.keys(answer.headers).filter((name) => name.startsWith('x-') && !exposed.includes(name));
          expect(extra).toEqual([]);
        } else {
          expect(exposed).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('still refuses simple requests (no preflight) by CSRF prevention, from any origin and from none', async () => {
    await fc.assert(
      fc.asyncProperty(cases(own()), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'GET'), async (c, kind) => {
        const headers: Record<string, string> = kind === 'GET' ? {} : { 'content-type': kind };
        if (c.origin !== undefined) headers.origin = c.origin;
        const answer =
          kind === 'GET'
            ? await rawRequest(`${t.url}?query=${encodeURIComponent('{ __typename }')}`, { method: 'GET', headers })
            : await rawRequest(t.url, { headers, body: JSON.stringify({ query: 'mutation { createSession(input: { title: "csrf" }) { id } }' }) });
        expect(answer.status).toBe(400);
        expect(answer.text).toMatch(/Cross-Site Request Forgery/);
        expect(answer.text).not.toContain('"data"');
      }),
      { numRuns: 40 },
    );
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM sessions WHERE title = 'csrf'`);
    expect(count).toBe(0);
  });

  it('opens a WebSocket exactly when the same rule allows the Origin', async () => {
    await fc.assert(
      fc.asyncProperty(cases(own()), async (c) => {
        expect(await upgrade(t.url, c.origin)).toBe(allowed(c) ? 'open' : 403);
      }),
      { numRuns: 40 },
    );
  });
});

describe('exposed headers', () => {
  it('include every response header the README and docs document', () => {
    const root = path.join(__dirname, '..', '..');
    const text = ['README.md', 'docs/SCALING.md', 'docs/RELIABILITY.md'].map((f) => readFileSync(path.join(root, f), 'utf8')).join('\n');
    const documented = new Set([...text.matchAll(/`(x-[a-z-]+|retry-after)`/gi)].map((m) => m[1].toLowerCase()));
    // Request headers only: a client sends them, no answer carries them.
    const requestOnly = new Set(['x-graphql-event-stream-token', 'x-apollo-operation-name']);
    expect([...documented].filter((name) => !requestOnly.has(name) && !(EXPOSED_HEADERS as readonly string[]).includes(name))).toEqual([]);
    expect(documented.size).toBeGreaterThanOrEqual(5);
  });
});
