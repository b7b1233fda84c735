/**
 * A client that goes away is the client's business (issue 21, item 7). Generated with fast-check:
 * every route a client can leave (POST and GET /graphql, /graphql/stream in both SSE modes, audio
 * uploads, graphql-ws) × the moment it leaves (inside the request head, inside the body, once the
 * request is sent, once the answer or the stream has begun) × how (FIN, half-close, reset) × the
 * body (JSON, gzip, chunked, padded to 150 KB). Against the real server with its log captured:
 * no line at warn or above (never "unexpected error", never "database unavailable"), nothing on
 * the console, no 5xx; a client that left inside its request body is logged exactly once
 * (CLIENT_LEFT, at info, naming its request id), and a WebSocket client exactly once; no other
 * exchange more than once. Afterwards no live connection is left and the server still answers.
 * Before, an SSE operation whose body was cut was logged as "unexpected error" (`Error: aborted`,
 * error level), a single-connection stream left while it opened kept its reservation and live
 * slot, and no departure was logged as such.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import pino from 'pino';
import WebSocket from 'ws';
import { CLIENT_LEFT } from '../../src/http/client-errors';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  transport?: string;
  status?: number;
  [field: string]: unknown;
}
const lines: LogLine[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  }),
);

const ROUTES = ['graphql-post', 'graphql-get', 'sse-post', 'sse-get', 'sse-single-stream', 'sse-single-operation', 'upload', 'ws'] as const;
type Route = (typeof ROUTES)[number];
type Moment = 'head' | 'body' | 'sent' | 'answer';
type How = 'fin' | 'half' | 'reset';
type Kind = 'json' | 'gzip' | 'chunked' | 'padded';

interface Case {
  route: Route;
  moment: Moment;
  how: How;
  kind: Kind;
  /** Where in the head or body the cut falls (0–1). */
  at: number;
  /** A wait before the cut once the request is sent. */
  delayMs: number;
}

/** The handshake bound: a reservation never opened (its opener left) holds its slot this long. */
const INIT_TIMEOUT_MS = 1000;

let t: TestServer;
let member: User;
let session: Session;
let token: string;
let firstCursor: string;
let audioDir: string;
const statuses: { status: number; url: string }[] = [];
const consoleCalls: unknown[][] = [];

beforeAll(async () => {
  audioDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-departures-'));
  t = await startTestServer({ HUB_AUDIO_DIR: audioDir, HUB_AUDIO_UPLOAD_STALL_SECONDS: '2', HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS) }, { logger });
  // Every answer the server begins, seen from beside the app: a 5xx is a failure even when the
  // client that caused it is gone.
  t.server.httpServer.on('request', (req, res) => {
    res.once('close', () => {
      if (res.statusCode >= 500) statuses.push({ status: res.statusCode, url: String(req.url).slice(0, 80) });
    });
  });
  for (const level of ['error', 'warn'] as const) jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void consoleCalls.push(args));
  const f = factories(t.dataSource);
  member = await f.user();
  session = await f.session(member);
  // Enough text that an answer or a replay is still being written when the client leaves.
  for (let i = 0; i < 30; i += 1) await f.message(session, { content: `${i} ${'x'.repeat(6000)}` });
  token = t.tokenFor(member, 3600);
  const page = await t.gql(`query($id: ID!) { session(id: $id) { messages(first: 1) { edges { cursor } } } }`, { id: session.id }, { as: member });
  firstCursor = page.data.session.messages.edges[0].cursor;
});
afterAll(async () => {
  jest.restoreAllMocks();
  await t?.close();
  fs.rmSync(audioDir, { recursive: true, force: true });
});

const QUERY = 'query Departure($id: ID!) { session(id: $id) { messages(first: 100) { nodes { id content } } } }';
const SUBSCRIPTION = 'subscription Departure($s: ID!, $a: String) { messageAdded(sessionId: $s, after: $a) { cursor node { id content } } }';

function port(): number {
  return Number(new URL(t.base).port);
}

/** The bytes of one HTTP request: head and body, the body encoded as `kind`. */
function httpRequest(method: string, target: string, headers: Record<string, string>, json: string | undefined, kind: Kind): { head: Buffer; body: Buffer } {
  const all: Record<string, string> = { host: `127.0.0.1:${port()}`, ...headers };
  let body = Buffer.alloc(0);
  if (json !== undefined) {
    all['content-type'] ??= 'application/json';
    const text = kind === 'padded' ? `${json}${' '.repeat(150_000)}` : json;
    if (kind === 'gzip') {
      body = gzipSync(Buffer.from(text));
      all['content-encoding'] = 'gzip';
    } else body = Buffer.from(text);
    if (kind === 'chunked') {
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += 512) {
        const part = body.subarray(i, i + 512);
        chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
      }
      chunks.push(Buffer.from('0\r\n\r\n'));
      body = Buffer.concat(chunks);
      all['transfer-encoding'] = 'chunked';
    } else all['content-length'] = String(body.length);
  }
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  return { head: Buffer.from(head), body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (condition()) return true;
  return condition();
}

function cut(socket: net.Socket, how: How): void {
  if (how === 'reset') socket.resetAndDestroy();
  else if (how === 'half') {
    socket.end();
    setTimeout(() => socket.destroy(), 200).unref();
  } else socket.destroy();
}

/**
 * Sends `request` on a raw socket and leaves at `moment`. Resolves once the socket is gone; `inside`
 * says whether it left inside the request body (the server cannot have answered).
 */
function leave(request: { head: Buffer; body: Buffer }, c: Case, streaming: boolean): Promise<{ insideBody: boolean }> {
  const bytes = Buffer.concat([request.head, request.body]);
  const headLength = request.head.length;
  return new Promise((resolve) => {
    let insideBody = false;
    let received = '';
    let answered = false;
    const socket = net.connect({ port: port(), host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve({ insideBody }));
    const leaveNow = () => {
      if (!socket.destroyed) cut(socket, c.how);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (c.moment !== 'answer' || answered) return;
      if (!streaming || received.includes('event: next') || (received.length >= 12 && !received.startsWith('HTTP/1.1 200'))) {
        answered = true;
        setTimeout(leaveNow, c.delayMs);
      }
    });
    socket.once('connect', () => {
      if (c.moment === 'head') {
        socket.write(bytes.subarray(0, 1 + Math.floor(c.at * (headLength - 5))), leaveNow);
      } else if (c.moment === 'body' && request.body.length > 1) {
        insideBody = true;
        socket.write(bytes.subarray(0, headLength + 1 + Math.floor(c.at * (request.body.length - 2))), leaveNow);
      } else {
        socket.write(bytes, () => {
          if (c.moment !== 'answer') setTimeout(leaveNow, c.delayMs);
          else setTimeout(leaveNow, 3000).unref();
        });
      }
    });
  });
}

async function fetchJson(pathname: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; text: string }> {
  const response = await fetch(`${t.base}${pathname}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  return { status: response.status, text: await response.text() };
}

/** A signed upload URL of the member's, `byteSize` bytes of audio/ogg. */
async function newUpload(byteSize: number): Promise<{ target: string; headers: Record<string, string> }> {
  const made = await t.gql(
    'mutation($input: CreateAudioUploadInput!) { createAudioUpload(input: $input) { uploadUrl headers { name value } } }',
    { input: { sessionId: session.id, contentType: 'audio/ogg', byteSize } },
    { as: member },
  );
  const { uploadUrl, headers } = made.data.createAudioUpload as { uploadUrl: string; headers: { name: string; value: string }[] };
  const url = new URL(uploadUrl);
  return { target: `${url.pathname}${url.search}`, headers: Object.fromEntries(headers.map((h) => [h.name.toLowerCase(), h.value])) };
}

/** Opens a single-connection SSE stream: its token and the socket holding it open. */
async function reserveStream(requestId: string): Promise<{ streamToken: string; socket: net.Socket }> {
  const reserved = await fetchJson('/graphql/stream', { method: 'PUT' });
  const streamToken = reserved.text;
  const socket = net.connect({ port: port(), host: '127.0.0.1' });
  socket.on('error', () => undefined);
  const opened = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write(
    httpRequest('GET', '/graphql/stream', { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'x-graphql-event-stream-token': streamToken, 'x-request-id': requestId }, undefined, 'json').head,
  );
  await opened;
  return { streamToken, socket };
}

/** One HTTP departure; `insideBody` when the client left inside its request body. */
async function httpDeparture(c: Case, requestId: string): Promise<{ insideBody: boolean }> {
  const auth = { authorization: `Bearer ${token}`, 'x-request-id': requestId };
  const sse = { ...auth, accept: 'text/event-stream' };
  const operation = JSON.stringify({ query: QUERY, variables: { id: session.id } });
  const subscription = { query: SUBSCRIPTION, variables: { s: session.id, a: firstCursor } };
  const search = (op: Record<string, unknown>) =>
    `?${new URLSearchParams(Object.entries(op).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()}`;
  switch (c.route) {
    case 'graphql-post':
      return leave(httpRequest('POST', '/graphql', auth, operation, c.kind), c, false);
    case 'graphql-get':
      // A GET may carry a body too (the JSON parser reads it): one that never ends is a departure like any.
      return leave(httpRequest('GET', `/graphql${search({ query: QUERY, variables: { id: session.id } })}`, auth, c.moment === 'body' ? '{"ignored": true}' : undefined, c.kind), c, false);
    case 'sse-post':
      return leave(httpRequest('POST', '/graphql/stream', sse, JSON.stringify(subscription), c.kind), c, true);
    case 'sse-get':
      return leave(httpRequest('GET', `/graphql/stream${search(subscription)}`, sse, undefined, c.kind), c, true);
    case 'sse-single-stream': {
      // The stream itself is the connection that leaves; an operation starts on it once open.
      const reserved = await fetchJson('/graphql/stream', { method: 'PUT' });
      const streamToken = reserved.text;
      const left = leave(httpRequest('GET', '/graphql/stream', { ...sse, 'x-graphql-event-stream-token': streamToken }, undefined, c.kind), c, true);
      await sleep(20);
      await fetchJson('/graphql/stream', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': streamToken },
        body: JSON.stringify({ ...subscription, extensions: { operationId: 'op' } }),
      }).catch(() => undefined);
      return left;
    }
    case 'sse-single-operation': {
      const { streamToken, socket } = await reserveStream(`${requestId}-stream`);
      try {
        const body = JSON.stringify({ ...subscription, extensions: { operationId: requestId } });
        return await leave(httpRequest('POST', '/graphql/stream', { ...auth, 'x-graphql-event-stream-token': streamToken }, body, c.kind), c, false);
      } finally {
        socket.destroy();
      }
    }
    case 'upload': {
      const size = 2048 + Math.floor(c.at * 60_000);
      const { target, headers } = await newUpload(size);
      const { head } = httpRequest('PUT', target, { ...headers, 'content-length': String(size), 'x-request-id': requestId }, undefined, 'json');
      return leave({ head, body: Buffer.alloc(size, 7) }, c, false);
    }
    default:
      throw new Error(`not an HTTP route: ${c.route}`);
  }
}

/** One graphql-ws departure: at the upgrade head, before the ack, while subscribing, or mid-stream. */
async function wsDeparture(c: Case, requestId: string): Promise<{ upgraded: boolean }> {
  if (c.moment === 'head') {
    const head = httpRequest('GET', '/graphql', { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'graphql-transport-ws' }, undefined, 'json').head;
    await leave({ head, body: Buffer.alloc(0) }, c, false);
    return { upgraded: false };
  }
  const ws = new WebSocket(`${t.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers: { 'x-request-id': requestId } });
  let raw: net.Socket | undefined;
  ws.on('upgrade', (res) => (raw = res.socket as net.Socket));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  const leaveNow = () => {
    if (c.how === 'reset' && raw) raw.resetAndDestroy();
    else if (c.how === 'half') ws.terminate();
    else ws.close(1000);
  };
  ws.once('open', () => {
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    if (c.moment === 'body') setTimeout(leaveNow, c.delayMs);
  });
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string };
    if (message.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { s: session.id, a: firstCursor } } }));
      if (c.moment === 'sent') setTimeout(leaveNow, c.delayMs);
    } else if (message.type === 'next' && c.moment === 'answer') setTimeout(leaveNow, c.delayMs);
  });
  const timer = setTimeout(leaveNow, 3000);
  await closed;
  clearTimeout(timer);
  return { upgraded: true };
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  route: fc.constantFrom(...ROUTES),
  moment: fc.constantFrom<Moment>('head', 'body', 'sent', 'answer'),
  how: fc.constantFrom<How>('fin', 'half', 'reset'),
  kind: fc.constantFrom<Kind>('json', 'gzip', 'chunked', 'padded'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  delayMs: fc.constantFrom(0, 2, 20),
});

let caseNo = 0;

it('logs a departing client once at info or debug, never as an error or a database outage, and answers no 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const requestId = `departure-${(caseNo += 1)}`;
      const from = lines.length;
      const consoleFrom = consoleCalls.length;
      const statusFrom = statuses.length;
      const ours = () => lines.slice(from).filter((l) => l.msg === CLIENT_LEFT && (c.route === 'ws' ? l.transport === 'ws' : l.requestId === requestId));
      let mustLog = false;
      if (c.route === 'ws') mustLog = (await wsDeparture(c, requestId)).upgraded;
      else mustLog = (await httpDeparture(c, requestId)).insideBody;
      // The server sees the departure (a stall window at most, for an upload body it waits on).
      if (mustLog) await until(() => ours().length > 0, 4000);
      await sleep(60);
      // The departure frees what it held: its live connection slot (its stream, its reservation;
      // one never opened, within the handshake bound).
      const slotsFreed = await until(() => t.server.live.transports.connections === 0, INIT_TIMEOUT_MS + 1500);
      const logged = lines.slice(from);
      expect({
        case: c,
        loud: logged.filter((l) => l.level >= 40 || /unexpected error|database unavailable/i.test(l.msg)),
        serverErrors: logged.filter((l) => (l.status ?? 0) >= 500),
        fiveHundreds: statuses.slice(statusFrom),
        console: consoleCalls.slice(consoleFrom).map((args) => String(args[0]).slice(0, 300)),
        // Exactly once where the server must have seen it leave; never more than once.
        departures: ours().length,
        levels: ours().filter((l) => l.level !== 30 && l.level !== 20),
        slotsFreed,
      }).toEqual({ case: c, loud: [], serverErrors: [], fiveHundreds: [], console: [], departures: mustLog ? 1 : Math.min(ours().length, 1), levels: [], slotsFreed: true });
    }),
    { numRuns: 90, seed: Number(process.env.FC_SEED ?? 2121), endOnFailure: true },
  );
  // Nothing held afterwards: every live slot released, and the server still answers.
  expect(await until(() => t.server.live.transports.connections === 0, 5000)).toBe(true);
  const after = await t.gql('{ me { id } }', {}, { as: member });
  expect(after.data).toEqual({ me: { id: member.id } });
}, 240_000);
