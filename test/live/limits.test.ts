import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { liveSse, liveWs, sleep, subscribed } from './support/clients';

/**
 * Issue 14, item 4: every live limit is configurable (HUB_LIVE_*) and enforced with a clear code,
 * and a subscription ends when its token expires or its viewer is deleted.
 */

const SESSION_CHANGED = 'subscription { sessionChanged { kind sessionId } }';
const MESSAGE_ADDED = 'subscription ($id: ID!, $after: String) { messageAdded(sessionId: $id, after: $after) { cursor node { id content } } }';

async function withServer(env: Record<string, string>, run: (t: TestServer) => Promise<void>) {
  const t = await startTestServer(env);
  try {
    await run(t);
  } finally {
    await t.close();
  }
}

function rawSocket(t: TestServer): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('live limits', () => {
  it('closes a WebSocket that sends no connection_init within HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS (4408)', () =>
    withServer({ HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: '200' }, async (t) => {
      const { closed } = await rawSocket(t);
      expect(await closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    }));

  it('refuses connections past HUB_LIVE_MAX_CONNECTIONS with 503, on both transports', () =>
    withServer({ HUB_LIVE_MAX_CONNECTIONS: '2' }, async (t) => {
      const user = await factories(t.dataSource).user();
      const a = await rawSocket(t);
      const b = await rawSocket(t);
      const status = await new Promise<number>((resolve, reject) => {
        const third = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
        third.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        third.once('open', () => reject(new Error('a third connection was accepted')));
        third.once('error', () => undefined);
      });
      expect(status).toBe(503);
      const sse = await fetch(`${t.url}/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(user)}` },
        body: JSON.stringify({ query: SESSION_CHANGED }),
      });
      expect(sse.status).toBe(503);
      expect(((await sse.json()) as any).errors[0].message).toMatch(/HUB_LIVE_MAX_CONNECTIONS/);
      a.socket.close();
      b.socket.close();
      await Promise.all([a.closed, b.closed]);
      // Room again once they are gone.
      const c = await rawSocket(t);
      c.socket.close();
    }));

  it('refuses a subscription past HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION with BAD_USER_INPUT', () =>
    withServer({ HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' }, async (t) => {
      const user = await factories(t.dataSource).user();
      const ws = liveWs(t.url, t.tokenFor(user));
      try {
        ws.subscribe(SESSION_CHANGED);
        ws.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 2);
        const third = ws.subscribe(SESSION_CHANGED);
        await third.done();
        expect(third.error).toEqual([
          expect.objectContaining({
            message: 'A connection may hold at most 2 subscriptions',
            extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', limit: 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION' }),
          }),
        ]);
        // A second connection of the same viewer may hold its own.
        const other = liveWs(t.url, t.tokenFor(user));
        other.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 3);
        await other.dispose();
      } finally {
        await ws.dispose();
      }
    }));

  it('refuses a subscription past HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER, across connections and transports', () =>
    withServer({ HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER: '2' }, async (t) => {
      const f = factories(t.dataSource);
      const [user, someoneElse] = await Promise.all([f.user(), f.user()]);
      const one = liveWs(t.url, t.tokenFor(user));
      const two = liveWs(t.url, t.tokenFor(user));
      const sse = liveSse(t.url, t.tokenFor(user));
      const theirs = liveWs(t.url, t.tokenFor(someoneElse));
      try {
        one.subscribe(SESSION_CHANGED);
        two.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 2);
        const third = sse.subscribe(SESSION_CHANGED);
        await third.done();
        expect(third.error).toEqual({ message: 'Server responded with 400: Bad Request' });
        // What the SSE client saw, in full:
        const response = await fetch(`${t.url}/stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(user)}` },
          body: JSON.stringify({ query: SESSION_CHANGED }),
        });
        expect(response.status).toBe(400);
        expect(((await response.json()) as any).errors).toEqual([
          expect.objectContaining({
            message: 'A viewer may hold at most 2 subscriptions on one server process',
            extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', limit: 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER' }),
          }),
        ]);
        // The limit is per viewer: another viewer is unaffected.
        theirs.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 3);
      } finally {
        await Promise.all([one.dispose(), two.dispose(), theirs.dispose()]);
        sse.dispose();
      }
    }));

  it('closes a slow consumer with 4413 past HUB_LIVE_MAX_BUFFER_BYTES; it resumes with `after` and misses nothing', () =>
    withServer({ HUB_LIVE_MAX_BUFFER_BYTES: '65536' }, async (t) => {
      const f = factories(t.dataSource);
      const user = await f.user();
      const session = await f.session(user);
      let socket: WebSocket | undefined;
      class Capturing extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols);
          socket = this; // eslint-disable-line @typescript-eslint/no-this-alias
        }
      }
      let closeCode: number | undefined;
      const client = createClient({
        url: t.url.replace(/^http/, 'ws'),
        webSocketImpl: Capturing,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${t.tokenFor(user)}` },
        on: { closed: (event: any) => (closeCode = event.code) },
      });
      const received: { cursor: string; node: { id: string } }[] = [];
      client.subscribe<any>({ query: MESSAGE_ADDED, variables: { id: session.id } }, {
        next: (value) => received.push(value.data.messageAdded),
        error: () => undefined,
        complete: () => undefined,
      });
      await subscribed(t.server.live.hub, 1);
      // The client stops reading; 600 messages of 30 kB each (18 MB) outgrow the socket buffers.
      (socket as any)._socket.pause();
      const total = 600;
      // Four statements of 150 (a statement of more than 200 would be announced as a bulk load, replayed at the client's pace).
      for (let part = 0; part < 4; part += 1) {
        await t.dataSource.query(
          `INSERT INTO messages (session_id, role, content, created_at)
           SELECT $1, 'USER', repeat('x', 30000) || i, now() + i * interval '1 millisecond' FROM generate_series($2::int, $2::int + 149) i`,
          [session.id, part * 150 + 1],
        );
      }
      const deadline = Date.now() + 20_000;
      while (t.server.live.hub.subscriberCount > 0 && Date.now() < deadline) await sleep(20);
      expect(t.server.live.hub.subscriberCount).toBe(0);
      (socket as any)._socket.resume();
      while (closeCode === undefined && Date.now() < deadline) await sleep(20);
      expect(closeCode).toBe(4413);
      await client.dispose();
      expect(received.length).toBeLessThan(total);

      // Resume from the last cursor received (or from the start of the session).
      const resumed = liveWs(t.url, t.tokenFor(user));
      try {
        expect(received.length).toBeGreaterThan(0);
        const rest = resumed.subscribe(MESSAGE_ADDED, { id: session.id, after: received.at(-1)!.cursor });
        await rest.waitFor(total - received.length, 20_000);
        const ids = [...received.map((e) => e.node.id), ...rest.results.map((r) => r.data.messageAdded.node.id)];
        const stored: { id: string }[] = await t.dataSource.query('SELECT id FROM messages WHERE session_id = $1 ORDER BY created_at, id', [session.id]);
        expect(ids).toEqual(stored.map((r) => r.id));
      } finally {
        await resumed.dispose();
      }
    }));

  it('ends a subscription with UNAUTHENTICATED when its token expires', () =>
    withServer({}, async (t) => {
      const user = await factories(t.dataSource).user();
      const ws = liveWs(t.url, t.tokenFor(user, 2));
      try {
        const received = ws.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 1);
        await received.done(8000);
        expect(received.results).toEqual([{ errors: [{ message: 'The bearer token expired', extensions: { code: 'UNAUTHENTICATED' } }] }]);
        expect(received.completed).toBe(true);
        expect(t.server.live.hub.subscriberCount).toBe(0);
      } finally {
        await ws.dispose();
      }
    }));

  it('ends a subscription with UNAUTHENTICATED when its viewer is deleted, and refuses new ones on the same connection', () =>
    withServer({}, async (t) => {
      const f = factories(t.dataSource);
      const [user, admin] = await Promise.all([f.user(), f.admin()]);
      await f.session(user);
      // Not lazy: the connection stays open after its subscription ended.
      const ws = liveWs(t.url, t.tokenFor(user), { lazy: false });
      try {
        const received = ws.subscribe(SESSION_CHANGED);
        await subscribed(t.server.live.hub, 1);
        const deleted = await t.gql('mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', { ids: [user.id] }, { as: admin });
        expect(deleted.data).toEqual({ deleteUsers: { deletedCount: 1 } });
        await received.done();
        expect(received.results.at(-1)).toEqual({
          errors: [{ message: 'The bearer token belongs to no user: the viewer was deleted', extensions: { code: 'UNAUTHENTICATED' } }],
        });
        const again = ws.subscribe(SESSION_CHANGED);
        await again.done();
        expect(again.error).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
      } finally {
        await ws.dispose();
      }
    }));
  it('leaves no subscriber behind when a client completes a subscription and reuses its id while it is being set up', () =>
    withServer({}, async (t) => {
      const user = await factories(t.dataSource).user();
      for (let round = 0; round < 5; round += 1) {
        const { socket, closed } = await rawSocket(t);
        const messages: any[] = [];
        socket.on('message', (data) => messages.push(JSON.parse(String(data))));
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.tokenFor(user)}` } }));
        for (const deadline = Date.now() + 5000; !messages.some((m) => m.type === 'connection_ack') && Date.now() < deadline; ) await sleep(5);
        // Back to back: the first subscribe is still authenticating when the others arrive.
        socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } }));
        socket.send(JSON.stringify({ type: 'complete', id: '1' }));
        socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } }));
        await sleep(200);
        // The reuse is refused with a code while the first is set up (or, if it was done, served).
        for (const m of messages.filter((x) => x.type === 'error')) expect(m.payload[0].extensions.code).toBe('CONFLICT');
        expect(t.server.live.hub.subscriberCount).toBeLessThanOrEqual(1);
        socket.close();
        await closed;
        for (const deadline = Date.now() + 5000; t.server.live.hub.subscriberCount > 0 && Date.now() < deadline; ) await sleep(10);
        expect(t.server.live.hub.subscriberCount).toBe(0);
      }
    }));
});
