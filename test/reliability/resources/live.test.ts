/**
 * Resource fuzz, #21.1 and #21.4: what one member can hold on the live transports. Three classes
 * against the built server in production mode, each with a bystander asking `{ me { id } }`:
 * - stalled replays: `messageAdded(after:)` over SSE on 200 long messages, one subscription per
 *   connection, never read (before: +1.46 GB for 100, out of memory near 400, a burst of replays
 *   took the whole pool);
 * - half-sent SSE bodies: `{` of a declared 1,000 bytes, holding live slots before
 *   authentication (before: held for 620 s and more, members got 503);
 * - idle sockets: authenticated WebSockets from one member that subscribe to nothing (before:
 *   all kept, no per-viewer cap).
 * Each is bounded in count and time and targets 127.0.0.1 only.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { User } from '../../../src/users/user.entity';
import { tally } from '../support/figures';
import { gql } from '../support/http';
import { sleep } from '../../support/child-server';
import { expectWithinBounds, METRICS_TOKEN, ResourceServer, runResourceClass, startResourceServer } from './support/resource-run';

const STALL_TIMEOUT_MS = 8_000;
const INIT_TIMEOUT_MS = 3_000;

let server: ResourceServer;
let attacker: User;
let bystander: User;
beforeAll(async () => {
  server = await startResourceServer({
    HUB_LIVE_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
    HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS),
    HUB_LIVE_MAX_CONNECTIONS: '100',
  });
  [attacker, bystander] = await Promise.all([server.f.user(), server.f.user()]);
});
afterAll(() => server?.close());

const port = () => Number(new URL(server.child.graphqlUrl).port);

/** A raw request whose answer is never read: the socket stops reading once the head is sent. */
interface Stalled {
  socket: net.Socket;
  closedByServer: () => boolean;
  /** Reads again: a connection the server closed then ends once what it had sent is read. */
  resume(): void;
}

function stalledRequest(text: string): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    let closed = false;
    let stalled = true;
    const socket = net.connect({ port: port(), host: '127.0.0.1' }, () => {
      socket.write(text);
      resolve({
        socket,
        closedByServer: () => closed,
        resume: () => {
          stalled = false;
          socket.resume();
        },
      });
    });
    socket.on('data', () => {
      // Reads the first bytes (the head), then stops reading, until resume().
      if (stalled) socket.pause();
    });
    socket.on('close', () => (closed = true));
    socket.on('end', () => (closed = true));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

function sseRequest(token: string, body: string, contentLength = Buffer.byteLength(body)): string {
  return `POST /graphql/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${contentLength}\r\n\r\n${body}`;
}

/** The server's open live connections, from its /metrics. */
async function liveConnections(): Promise<number> {
  const response = await fetch(`${new URL(server.child.graphqlUrl).origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await response.text();
  return [...text.matchAll(/^hub_live_connections\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Whether a member can still start a subscription over SSE (a 200 event stream). */
async function memberGetsIn(token: string): Promise<number> {
  const controller = new AbortController();
  try {
    const response = await fetch(`${server.child.graphqlUrl}/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription { sessionChanged { kind } }' }),
      signal: controller.signal,
    });
    return response.status;
  } catch {
    return 0;
  } finally {
    controller.abort();
  }
}

test('stalled messageAdded replays over SSE: memory bounded, the pool left to others, every stalled reader closed', async () => {
  const SUBSCRIPTIONS = 60;
  const session = await server.f.session(attacker);
  await server.dataSource.query(
    `INSERT INTO messages (session_id, role, content) SELECT $1, 'USER', repeat('漢', 32000) || i FROM generate_series(1, 200) i`,
    [session.id],
  );
  const token = server.tokenFor(attacker);
  const first = await gql(server.child.graphqlUrl, token, 'query ($id: ID!) { session(id: $id) { messages(first: 1) { edges { cursor } } } }', { id: session.id });
  const after = first.body.data.session.messages.edges[0].cursor;
  const body = JSON.stringify({ query: 'subscription ($id: ID!, $after: String) { messageAdded(sessionId: $id, after: $after) { cursor node { id content } } }', variables: { id: session.id, after } });
  const streams: Stalled[] = [];
  const figures = await runResourceClass({
    name: 'live-stalled-replays',
    server,
    bystander,
    rssBoundMb: 300,
    attack: async () => {
      // Half of them in a burst (50 replays at once), the rest 50 ms apart.
      await Promise.all(Array.from({ length: SUBSCRIPTIONS / 2 }, async () => streams.push(await stalledRequest(sseRequest(token, body)))));
      for (let i = 0; i < SUBSCRIPTIONS / 2; i += 1) {
        streams.push(await stalledRequest(sseRequest(token, body)));
        await sleep(50);
      }
      // Replays wait their turn in the gate without owing anything; each stalls once its socket
      // is full, and is closed HUB_LIVE_STALL_TIMEOUT_MS later: the server ends up holding none.
      const deadline1 = Date.now() + 60_000;
      while ((await liveConnections()) > 0 && Date.now() < deadline1) await sleep(500);
      // Then the readers read again: every one was closed by the server.
      for (const s of streams) s.resume();
      const deadline = Date.now() + 15_000;
      while (streams.some((s) => !s.closedByServer()) && Date.now() < deadline) await sleep(200);
      return { requests: streams.length, outcomes: tally(streams.map((s) => (s.closedByServer() ? 'closed by the server' : 'still open'))) };
    },
  });
  for (const s of streams) s.socket.destroy();
  expectWithinBounds(figures);
  expect(figures.outcomes).toEqual({ 'closed by the server': SUBSCRIPTIONS });
}, 240_000);

test('half-sent SSE bodies hold no slot past the init timeout: a member gets in, never a 503', async () => {
  const HALF_SENT = 100;
  const sockets: Stalled[] = [];
  const memberToken = server.tokenFor(bystander);
  const statuses: number[] = [];
  const figures = await runResourceClass({
    name: 'live-half-sent-bodies',
    server,
    bystander,
    rssBoundMb: 100,
    attack: async () => {
      // Anonymous and authenticated alike; the slots are counted before authentication.
      for (let i = 0; i < HALF_SENT; i += 1) {
        const auth = i % 2 === 0 ? server.tokenFor(attacker) : 'x';
        sockets.push(await stalledRequest(sseRequest(auth, '{', 1000)));
      }
      // Past the bound every slot is free again, while the half-sent requests still hang on.
      await sleep(INIT_TIMEOUT_MS + 2_000);
      for (let i = 0; i < 5; i += 1) statuses.push(await memberGetsIn(memberToken));
      for (const s of sockets) s.resume();
      const deadline = Date.now() + 10_000;
      while (sockets.some((s) => !s.closedByServer()) && Date.now() < deadline) await sleep(200);
      return { requests: sockets.length, outcomes: tally(sockets.map((s) => (s.closedByServer() ? 'closed by the server' : 'still open'))) };
    },
  });
  for (const s of sockets) s.socket.destroy();
  expectWithinBounds(figures);
  expect(statuses).toEqual([200, 200, 200, 200, 200]);
  expect(figures.outcomes).toEqual({ 'closed by the server': HALF_SENT });
}, 240_000);

test('idle authenticated WebSockets from one member: at most HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER kept, others get in', async () => {
  const SOCKETS = 90;
  const PER_VIEWER = 50;
  const token = server.tokenFor(attacker);
  const sockets: WebSocket[] = [];
  const outcomes: string[] = [];
  const figures = await runResourceClass({
    name: 'live-idle-socket-flood',
    server,
    bystander,
    rssBoundMb: 100,
    attack: async () => {
      await Promise.all(
        Array.from(
          { length: SOCKETS },
          () =>
            new Promise<void>((resolve) => {
              const ws = new WebSocket(server.child.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
              sockets.push(ws);
              const done = (outcome: string) => {
                outcomes.push(outcome);
                resolve();
              };
              ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
              ws.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && done('acknowledged'));
              ws.on('close', (code) => done(`closed ${code}`));
              ws.on('unexpected-response', (_req, res) => done(`refused ${res.statusCode}`));
              ws.on('error', () => undefined);
            }),
        ),
      );
      await sleep(1_000);
      return { requests: SOCKETS, outcomes: tally(outcomes) };
    },
  });
  // Another member still gets in while the flood holds its share.
  const status = await memberGetsIn(server.tokenFor(bystander));
  for (const ws of sockets) ws.terminate();
  expectWithinBounds(figures);
  expect(figures.outcomes).toEqual({ acknowledged: PER_VIEWER, 'closed 4429': SOCKETS - PER_VIEWER });
  expect(status).toBe(200);
}, 240_000);
