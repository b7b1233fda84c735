/**
 * Issue #21, item 1: every live path bounded in memory and time. A `messageAdded(after:)` replay
 * goes at its reader's pace under the per-connection buffer limit; a reader that stops taking
 * what it owes (SSE: writes that never drain; WebSocket: a buffer that never empties) is closed
 * within HUB_LIVE_STALL_TIMEOUT_MS; replays reach the pool through a bounded line (ReplayGate),
 * so a burst of them leaves connections to requests and still delivers everything in order.
 */
import net from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { ReplayGate, ReplaysQueueFull } from '../../src/live/replay-gate';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { liveSse, liveWs, sleep } from './support/clients';
import { settledTo } from './support/raw-live';

const STALL_MS = 1_000;
const FOLLOW = 'subscription ($id: ID!, $after: String) { messageAdded(sessionId: $id, after: $after) { cursor node { id content } } }';

let t: TestServer;
let member: User;
beforeAll(async () => {
  t = await startTestServer({ HUB_LIVE_STALL_TIMEOUT_MS: String(STALL_MS), HUB_LIVE_MAX_BUFFER_BYTES: String(64 * 1024 * 1024), HUB_LIVE_REPLAY_CONCURRENCY: '1' });
  member = await factories(t.dataSource).user();
});
afterAll(() => t?.close());

/** A session of `count` messages of `chars` CJK characters (3 bytes each in UTF-8), and the cursor of its first. */
async function longSession(count: number, chars: number): Promise<{ id: string; after: string; ids: string[] }> {
  const session = await factories(t.dataSource).session(member);
  await t.dataSource.query(`INSERT INTO messages (session_id, role, content) SELECT $1, 'USER', repeat('漢', $2::int) || i FROM generate_series(1, $3::int) i`, [session.id, chars, count]);
  const page = await t.gql('query ($id: ID!) { session(id: $id) { messages(first: 40) { edges { cursor node { id } } } } }', { id: session.id }, { as: member });
  const edges = page.data.session.messages.edges;
  return { id: session.id, after: edges[0].cursor, ids: edges.slice(1).map((e: { node: { id: string } }) => e.node.id) };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

describe('stalled readers', () => {
  it('closes a replaying reader that stops reading, over SSE and WebSocket, within the stall timeout', async () => {
    // 15 MB: more than the loopback socket buffers of both ends take.
    const session = await longSession(150, 32_000);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('sse', 'ws'), fc.integer({ min: 0, max: 3 }), async (transport, readFirst) => {
        const port = Number(new URL(t.url).port);
        let closed = false;
        let stalled = true;
        let socket: net.Socket | WebSocket;
        const token = t.tokenFor(member);
        const body = JSON.stringify({ query: FOLLOW, variables: { id: session.id, after: session.after } });
        if (transport === 'sse') {
          const raw = net.connect(port, '127.0.0.1', () =>
            raw.write(`POST /graphql/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
          );
          let chunks = 0;
          // Reads a few chunks, then stops reading for good.
          raw.on('data', () => stalled && (chunks += 1) > readFirst && raw.pause());
          raw.on('close', () => (closed = true));
          raw.on('error', () => undefined);
          socket = raw;
        } else {
          const ws = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
          let nexts = 0;
          ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
          ws.on('message', (data) => {
            const message = JSON.parse(String(data));
            if (message.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: JSON.parse(body) }));
            if (message.type === 'next' && stalled && (nexts += 1) > readFirst) (ws as unknown as { _socket: net.Socket })._socket.pause();
          });
          ws.on('close', () => (closed = true));
          ws.on('error', () => undefined);
          socket = ws;
        }
        try {
          // Nothing more is read: the server lets go of it within the bound (the stall timeout,
          // the watch's sweep, and the close's own grace period)…
          expect(await until(() => t.server.live.hub.subscriberCount === 1, 10_000)).toBe(true);
          expect(await until(() => t.server.live.hub.subscriberCount === 0 && t.server.live.transports.connections === 0, STALL_MS + 6_000)).toBe(true);
          // …and closed it: once the client reads again, what was in the socket ends in a close.
          stalled = false;
          if (socket instanceof WebSocket) (socket as unknown as { _socket: net.Socket })._socket.resume();
          else socket.resume();
          expect(await until(() => closed, 10_000)).toBe(true);
        } finally {
          if (socket instanceof WebSocket) socket.terminate();
          else socket.destroy();
          await settledTo(t.server.live.hub, 0);
        }
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});

describe('paced readers', () => {
  it('never cuts a reader that keeps taking what a replay sends, at its own pace; cuts it within the bound once it stops', async () => {
    // 29 MB: the replay refills what its reader takes for longer than twice the watch's timeout.
    const session = await longSession(300, 32_000);
    await fc.assert(
      // One socket read (at most 64 KB) every 6 to 15 ms: what TCP moves within every timeout of
      // the watch (1 s here), even with loopback's megabytes of buffers opening the window in bursts.
      fc.asyncProperty(fc.constantFrom('sse', 'ws'), fc.integer({ min: 6, max: 15 }), async (transport, paceMs) => {
        const token = t.tokenFor(member);
        const body = JSON.stringify({ query: FOLLOW, variables: { id: session.id, after: session.after } });
        let closed = false;
        let reading = true;
        let raw: net.Socket;
        let ws: WebSocket | undefined;
        if (transport === 'sse') {
          raw = net.connect(Number(new URL(t.url).port), '127.0.0.1', () =>
            raw.write(`POST /graphql/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
          );
          raw.on('close', () => (closed = true));
        } else {
          ws = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
          ws.on('open', () => ws!.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
          ws.on('message', (data) => {
            const message = JSON.parse(String(data));
            if (message.type === 'connection_ack') ws!.send(JSON.stringify({ id: '1', type: 'subscribe', payload: JSON.parse(body) }));
          });
          ws.on('close', () => (closed = true));
          ws.on('error', () => undefined);
          await new Promise((resolve) => ws!.once('open', resolve));
          raw = (ws as unknown as { _socket: net.Socket })._socket;
        }
        raw.on('error', () => undefined);
        // One chunk of what the socket holds every `paceMs`, for as long as it reads.
        raw.on('data', () => raw.pause());
        const pace = setInterval(() => reading && raw.resume(), paceMs);
        try {
          expect(await until(() => t.server.live.hub.subscriberCount === 1, 10_000)).toBe(true);
          await sleep(2 * STALL_MS);
          expect({ closed, subscribers: t.server.live.hub.subscriberCount }).toEqual({ closed: false, subscribers: 1 });
          reading = false;
          expect(await until(() => t.server.live.hub.subscriberCount === 0 && t.server.live.transports.connections === 0, STALL_MS + 6_000)).toBe(true);
        } finally {
          clearInterval(pace);
          if (ws) ws.terminate();
          else raw.destroy();
          await settledTo(t.server.live.hub, 0);
        }
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});

describe('replays through the gate', () => {
  it('delivers every replay of a burst in order while requests keep being served (one replay step at a time)', async () => {
    const session = await longSession(30, 2_000);
    const BURST = 20;
    const clients = Array.from({ length: BURST }, (_, i) => (i % 2 ? liveSse(t.url, t.tokenFor(member)) : liveWs(t.url, t.tokenFor(member))));
    const bystander = await factories(t.dataSource).user();
    try {
      const received = clients.map((c) => c.subscribe(FOLLOW, { id: session.id, after: session.after }));
      const statuses: number[] = [];
      while (received.some((r) => r.results.length < session.ids.length && !r.error && !r.completed)) {
        statuses.push((await t.gql('{ me { id } }', undefined, { as: bystander })).status);
      }
      expect(received.map((r) => r.results.map((x) => x.data?.messageAdded.node.id))).toEqual(received.map(() => session.ids));
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
      await settledTo(t.server.live.hub, 0);
    }
  }, 120_000);

  it('runs at most `concurrency` steps, in arrival order, and refuses past its line (model)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 6 }), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 20 }), async (concurrency, maxWaiting, delays) => {
        const gate = new ReplayGate(concurrency, maxWaiting);
        let running = 0;
        let peak = 0;
        const started: number[] = [];
        const outcomes = await Promise.all(
          delays.map((delay, i) =>
            gate
              .run(async () => {
                started.push(i);
                running += 1;
                peak = Math.max(peak, running);
                await sleep(delay);
                running -= 1;
              })
              .then(() => 'ran', (error) => (error instanceof ReplaysQueueFull ? 'refused' : 'failed')),
          ),
        );
        expect(peak).toBeLessThanOrEqual(concurrency);
        // All calls arrive at once: the first `concurrency + maxWaiting` run, in order; the rest are refused.
        const admitted = Math.min(delays.length, concurrency + maxWaiting);
        expect(outcomes).toEqual(delays.map((_, i) => (i < admitted ? 'ran' : 'refused')));
        expect(started).toEqual(Array.from({ length: admitted }, (_, i) => i));
        expect(gate.load).toEqual({ running: 0, waiting: 0 });
      }),
      { numRuns: 100 },
    );
  });
});

describe('replays per viewer (HUB_LIVE_MAX_REPLAYS_PER_VIEWER)', () => {
  /** A replay read a chunk at a time, every 10 ms: it never stalls, and holds its viewer's turn for as long as it runs (seconds). */
  function slowReplay(server: TestServer, token: string, body: string): net.Socket {
    const raw = net.connect(Number(new URL(server.url).port), '127.0.0.1', () =>
      raw.write(`POST /graphql/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
    );
    raw.on('data', () => raw.pause());
    const timer = setInterval(() => raw.resume(), 10);
    raw.on('close', () => clearInterval(timer));
    raw.on('error', () => undefined);
    return raw;
  }

  it('past its turns a replay waits; a line that stands still ends it LIVE_REPLAYS_BUSY, counted as a refusal; other viewers replay meanwhile', async () => {
    const u = await startTestServer({ HUB_LIVE_STALL_TIMEOUT_MS: String(STALL_MS), HUB_LIVE_MAX_BUFFER_BYTES: String(64 * 1024 * 1024), HUB_LIVE_MAX_REPLAYS_PER_VIEWER: '1' });
    const refusals = async () => {
      const text = await (await fetch(u.url.replace('/graphql', '/metrics'))).text();
      return Number(/hub_limit_refusals_total\{limit="HUB_LIVE_MAX_REPLAYS_PER_VIEWER"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    try {
      const f = factories(u.dataSource);
      const [holder, other] = [await f.user(), await f.user()];
      // The holder's replay: 15 MB, more than the loopback socket buffers take, read slowly.
      const long = await f.session(holder);
      await u.dataSource.query(`INSERT INTO messages (session_id, role, content) SELECT $1, 'USER', repeat('漢', 32000) || i FROM generate_series(1, 150) i`, [long.id]);
      const cursorOf = async (viewer: User, sessionId: string) =>
        (await u.gql('query ($id: ID!) { session(id: $id) { messages(first: 1) { edges { cursor } } } }', { id: sessionId }, { as: viewer })).data.session.messages.edges[0].cursor;
      const short = async (viewer: User) => {
        const session = await f.session(viewer);
        await u.dataSource.query(`INSERT INTO messages (session_id, role, content) SELECT $1, 'USER', 'm' || i FROM generate_series(1, 4) i`, [session.id]);
        return { id: session.id, after: await cursorOf(viewer, session.id) };
      };
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('sse', 'ws'), fc.integer({ min: 1, max: 3 }), async (transport, waiting) => {
          const before = await refusals();
          const held = slowReplay(u, u.tokenFor(holder), JSON.stringify({ query: FOLLOW, variables: { id: long.id, after: await cursorOf(holder, long.id) } }));
          const clients = [...Array.from({ length: waiting }, () => holder), other].map((viewer) => ({ viewer, live: transport === 'sse' ? liveSse(u.url, u.tokenFor(viewer)) : liveWs(u.url, u.tokenFor(viewer)) }));
          try {
            expect(await until(() => u.server.live.hub.subscriberCount === 1, 10_000)).toBe(true);
            const received = await Promise.all(clients.map(async ({ viewer, live }) => live.subscribe(FOLLOW, await short(viewer))));
            // The other viewer's replay has a turn of its own: all three of its messages, at once.
            await received[waiting].waitFor(3, STALL_MS);
            // The holder's line stands still (its one turn held by a replay that goes on): each
            // replay waiting in it ends busy once the stall timeout has passed, after the live
            // messages it held meanwhile (its session's inserts, when they arrived after it subscribed).
            await Promise.all(received.slice(0, waiting).map((r) => r.done(STALL_MS + 5_000)));
            for (const r of received.slice(0, waiting)) {
              const busy = r.results[r.results.length - 1];
              expect(busy).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ reason: 'LIVE_REPLAYS_BUSY', retryAfter: 1 }) })] });
              for (const held of r.results.slice(0, -1)) expect(held.data?.messageAdded.node.content).toMatch(/^m[2-4]$/);
            }
            expect(await refusals()).toBe(before + waiting);
          } finally {
            held.destroy();
            await Promise.all(clients.map(({ live }) => live.dispose()));
            await settledTo(u.server.live.hub, 0);
          }
        }),
        { numRuns: 4 },
      );
    } finally {
      await u.close();
    }
  }, 120_000);
});
