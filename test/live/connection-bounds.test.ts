/**
 * Issue #21, item 4 and issue #25, item 3: what a live connection may hold, and for how long.
 * A connection counts against the per-address cap before it authenticates only for
 * HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS (half-sent bodies, silent sockets, reservations nobody
 * opens); per-viewer and per-address caps refuse with codes; a WebSocket whose token expires is
 * closed; the SSE new-document budget is 429 with retry-after as over HTTP; browsers' Origin is
 * checked against the CORS list on both transports.
 */
import net from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { liveWs, sleep, subscribed } from './support/clients';
import { settledTo, sseSubscribe, wsSubscribe } from './support/raw-live';

const SESSION_CHANGED = 'subscription { sessionChanged { kind sessionId } }';
// Long enough that a loaded machine (two jest workers, PostgreSQL) still sees every slot held at
// once before the first one's handshake bound ends; short enough for 12 runs.
const INIT_TIMEOUT_MS = 2000;
/** The body length a half-sent POST announces. */
const BODY_LENGTH = 1000;

async function withServer(env: Record<string, string>, run: (t: TestServer, member: User) => Promise<void>) {
  const t = await startTestServer(env);
  try {
    await run(t, await factories(t.dataSource).user());
  } finally {
    await t.close();
  }
}

/** A raw TCP client that sends `head` (and part of a body) and then nothing. */
function halfSent(port: number, text: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

describe('slots before authentication', () => {
  it('gives back every slot a half-sent request or a silent socket holds, within the init timeout, whatever it sent', () =>
    withServer({ HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS), HUB_LIVE_MAX_CONNECTIONS: '4' }, async (t, member) => {
      const port = Number(new URL(t.url).port);
      const token = t.tokenFor(member);
      const hostile = fc.record({
        kind: fc.constantFrom('sse-post', 'sse-put', 'sse-single-post', 'ws-silent', 'ws-no-init'),
        authorized: fc.boolean(),
        // Bytes of the announced body sent: always fewer than all of it, so it is half-sent.
        sent: fc.integer({ min: 0, max: BODY_LENGTH - 1 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 4 }), async (clients) => {
          // The last run's connections (its members' subscriptions included) are gone: with
          // HUB_LIVE_MAX_CONNECTIONS at 4, one left over would turn a client of this run away.
          expect(await until(() => t.server.live.transports.connections === 0, 5000)).toBe(true);
          const sockets: net.Socket[] = [];
          const wsClients: WebSocket[] = [];
          for (const { kind, authorized, sent } of clients) {
            const auth = authorized ? `Authorization: Bearer ${token}\r\n` : '';
            const body = sent === 0 ? '' : '{'.padEnd(sent, ' ');
            if (kind === 'sse-post') {
              sockets.push(await halfSent(port, `POST /graphql/stream HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${BODY_LENGTH}\r\n\r\n${body}`));
            } else if (kind === 'sse-single-post') {
              sockets.push(await halfSent(port, `POST /graphql/stream HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nx-graphql-event-stream-token: 0\r\nContent-Length: ${BODY_LENGTH}\r\n\r\n${body}`));
            } else if (kind === 'sse-put') {
              // A reservation that is never opened (its token is read and forgotten).
              sockets.push(await halfSent(port, `PUT /graphql/stream HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 0\r\n\r\n`));
            } else {
              const ws = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
              ws.on('error', () => undefined);
              if (kind === 'ws-no-init') ws.on('open', () => ws.send(JSON.stringify({ type: 'ping' })));
              wsClients.push(ws);
            }
          }
          try {
            // Those that could hold a slot took one (a refused token or an unknown stream token is
            // answered at once, the half-sent body unread)…
            const holding = clients.filter(({ kind, authorized }) => kind.startsWith('ws') || (authorized && (kind === 'sse-post' || kind === 'sse-put'))).length;
            expect(await until(() => t.server.live.transports.connections === holding, 3000)).toBe(true);
            // …and each is gone from the slots within the bound (plus the stall sweep's second).
            expect(await until(() => t.server.live.transports.connections === 0, INIT_TIMEOUT_MS + 3000)).toBe(true);
            // A member still gets in on both transports.
            expect((await sseSubscribe(t.url, token, { query: SESSION_CHANGED }, t.server.live.hub)).ran).toBe(true);
            expect((await wsSubscribe(t.url, token, { query: SESSION_CHANGED }, t.server.live.hub)).ran).toBe(true);
          } finally {
            for (const socket of sockets) socket.destroy();
            for (const ws of wsClients) ws.terminate();
          }
        }),
        { numRuns: 12 },
      );
    }), 180_000);
});

describe('caps per viewer and per address', () => {
  it('refuses a viewer past HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER (WebSocket 4429, SSE 429) and lets another viewer in', () =>
    withServer({ HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER: '2' }, async (t, member) => {
      const other = await factories(t.dataSource).user();
      const held = [liveWs(t.url, t.tokenFor(member)), liveWs(t.url, t.tokenFor(member))];
      try {
        for (const ws of held) ws.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 2);
        const third = await wsSubscribe(t.url, t.tokenFor(member), { query: SESSION_CHANGED }, t.server.live.hub);
        expect(third).toEqual({ ran: false, close: { code: 4429, reason: expect.stringContaining('HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER') } });
        const response = await fetch(`${t.url}/stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(member)}` },
          body: JSON.stringify({ query: SESSION_CHANGED }),
        });
        expect(response.status).toBe(429);
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(((await response.json()) as any).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER' });
        expect((await wsSubscribe(t.url, t.tokenFor(other), { query: SESSION_CHANGED }, t.server.live.hub)).ran).toBe(true);
      } finally {
        await Promise.all(held.map((ws) => ws.dispose()));
      }
    }), 60_000);

  it('refuses an address past HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS before authentication (429 at the upgrade)', () =>
    withServer({ HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS: '3' }, async (t, member) => {
      const open = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<WebSocket>((resolve, reject) => {
              const ws = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
              ws.once('open', () => resolve(ws));
              ws.once('error', reject);
            }),
        ),
      );
      try {
        expect(await wsSubscribe(t.url, t.tokenFor(member), { query: SESSION_CHANGED }, t.server.live.hub)).toEqual({ ran: false, status: 429 });
        const sse = await sseSubscribe(t.url, t.tokenFor(member), { query: SESSION_CHANGED }, t.server.live.hub);
        expect(sse).toMatchObject({ ran: false, status: 429, errors: [{ extensions: { limit: 'HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS' } }] });
      } finally {
        for (const ws of open) ws.terminate();
      }
    }), 60_000);
});

describe('expiry and budgets', () => {
  it('closes a WebSocket with 4401 once its token expires, after its subscription ended with UNAUTHENTICATED; its slot is free', () =>
    withServer({}, async (t, member) => {
      const ws = liveWs(t.url, t.tokenFor(member, 2), { lazy: false });
      try {
        const received = ws.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 1);
        await received.done(8000);
        expect(received.results).toEqual([{ errors: [{ message: 'The bearer token expired', extensions: { code: 'UNAUTHENTICATED' } }] }]);
        expect(await until(() => ws.closed !== undefined, 5000)).toBe(true);
        expect(ws.closed?.code).toBe(4401);
        expect(await until(() => t.server.live.transports.connections === 0, 5000)).toBe(true);
      } finally {
        await ws.dispose();
      }
    }), 30_000);

  it('refuses new documents past the budget over SSE with 429 and retry-after, as over HTTP', () =>
    withServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1' }, async (t, member) => {
      const token = t.tokenFor(member);
      expect((await sseSubscribe(t.url, token, { query: SESSION_CHANGED }, t.server.live.hub)).ran).toBe(true);
      const response = await fetch(`${t.url}/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'subscription { sessionChanged { sessionId } }' }),
      });
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await response.json()) as any).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NEW_DOCUMENT_RATE' });
      await settledTo(t.server.live.hub, 0);
    }), 30_000);
});

describe('Origin', () => {
  it('lets browsers in from the server\'s own origin and HUB_CORS_ORIGINS only, and clients that send none', () =>
    withServer({ HUB_CORS_ORIGINS: 'http://allowed.example' }, async (t, member) => {
      const token = t.tokenFor(member);
      const own = new URL(t.url).origin;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('ws', 'sse'),
          fc.option(fc.constantFrom('http://allowed.example', own, 'http://evil.example', 'null', 'http://allowed.example.evil', own.replace('http:', 'https:') + '1', 'https://allowed.example'), { nil: undefined }),
          async (transport, origin) => {
            const headers: Record<string, string> = origin === undefined ? {} : { origin };
            const outcome =
              transport === 'ws'
                ? await wsSubscribe(t.url, token, { query: SESSION_CHANGED }, t.server.live.hub, headers)
                : await sseSubscribe(t.url, token, { query: SESSION_CHANGED }, t.server.live.hub, headers);
            const allowed = origin === undefined || origin === 'http://allowed.example' || origin === own;
            if (allowed) expect(outcome.ran).toBe(true);
            else if (transport === 'ws') expect(outcome).toEqual({ ran: false, status: 403 });
            else expect(outcome).toMatchObject({ ran: false, status: 403, errors: [{ extensions: { code: 'FORBIDDEN' } }] });
          },
        ),
        { numRuns: 30 },
      );
    }), 120_000);
});
