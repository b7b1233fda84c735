/**
 * Bad input on the live transports (issue 12 asks the fuzz suite to cover them): fast-check
 * over raw graphql-ws frames (bad JSON, unknown types, subscribe before connection_init,
 * duplicate ids, huge and binary frames, wrong subprotocols, bad connectionParams and tokens,
 * documents that break the limits, random interleavings) and over graphql-sse requests (bad
 * bodies, tokens, headers, methods). Every case ends in a coded close (graphql-ws 44xx; 1002,
 * 1007, 1009 for frames the WebSocket protocol itself refuses) or in coded GraphQL errors, never
 * a crash, an internal-error close (4500, 1011), a dropped socket or a 5xx, and the server keeps
 * serving: afterwards every subscriber and connection is gone and a live subscription works.
 */
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { factories } from '../factories';
import { startTestServer, TEST_SECRET, TestServer } from '../harness';
import { liveWs, sleep, subscribed } from '../live/support/clients';
import { User } from '../../src/users/user.entity';
import { tally, writeFigures } from './support/figures';
import { API_CODES } from './support/http';

let t: TestServer;
let member: User;
let admin: User;
let gone: User;
const ids = { sessions: [] as string[], others: [] as string[] };
let cursor = '';
const INIT_TIMEOUT_MS = 300;
const PER_CONNECTION = 3;

beforeAll(async () => {
  t = await startTestServer({
    HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000',
    HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS),
    HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
  });
  const f = factories(t.dataSource);
  [member, admin, gone] = await Promise.all([f.user(), f.admin(), f.user()]);
  const other = await f.user();
  for (const [owner, list] of [[member, ids.sessions], [other, ids.others]] as const) {
    for (let i = 0; i < 2; i += 1) {
      const session = await f.session(owner);
      list.push(session.id);
      await f.message(session);
    }
  }
  const page = await t.gql('query ($id: ID!) { session(id: $id) { messages(first: 1) { pageInfo { endCursor } } } }', { id: ids.sessions[0] }, { as: member });
  cursor = page.data.session.messages.pageInfo.endCursor;
  // A token whose user no longer exists.
  await t.gql('mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', { ids: [gone.id] }, { as: admin });
});

const outcomes: Record<string, string[]> = {};
const problems = new Map<string, { count: number; examples: string[] }>();

afterAll(async () => {
  writeFigures('ws-fuzz', {
    cases: Object.values(outcomes).reduce((sum, list) => sum + list.length, 0),
    problems: Object.fromEntries(problems),
    byClass: Object.fromEntries(Object.entries(outcomes).map(([k, v]) => [k, { cases: v.length, outcomes: tally(v) }])),
  });
  await t?.close();
});

function report(cls: string, problem: string, input: string): void {
  const kind = `${cls}: ${problem.replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 160)}`;
  const entry = problems.get(kind) ?? { count: 0, examples: [] };
  entry.count += 1;
  if (entry.examples.length < 2) entry.examples.push(`${problem.slice(0, 300)} <- ${input.slice(0, 400)}`);
  problems.set(kind, entry);
}

/** What is wrong with a list of GraphQL errors sent for bad input (undefined: nothing). */
function errorsProblem(errors: unknown): string | undefined {
  if (!Array.isArray(errors)) return `errors is not a list: ${JSON.stringify(errors)?.slice(0, 200)}`;
  for (const e of errors) {
    const code = e?.extensions?.code;
    if (!API_CODES.includes(code)) return `error without a known code (${code}): ${JSON.stringify(e).slice(0, 300)}`;
    if (code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR for bad input: ${JSON.stringify(e).slice(0, 300)}`;
    if (code === 'BAD_USER_INPUT' && !Array.isArray(e.extensions.validation)) return `BAD_USER_INPUT without validation: ${JSON.stringify(e).slice(0, 300)}`;
  }
  return undefined;
}

// ---- graphql-ws: one case is one connection ----------------------------------------------------

/** A frame to send, a pause, or a wait for the server's connection_ack (a client may subscribe only
 * once acknowledged; before, graphql-ws closes with 4401). */
type Frame = { text: string } | { binary: Buffer } | { pauseMs: number } | { ack: true };
const ACK: Frame = { ack: true };

interface WsOutcome {
  /** HTTP status when the upgrade was refused. */
  refused?: number;
  /** The close the server sent (undefined: still open when the case ended, then closed by us). */
  close?: { code: number; reason: string };
  messages: string[];
  failure?: string;
}

/** The closes a bad client may get: graphql-ws's own, ours (4413), and the WebSocket protocol's. */
const CODED_CLOSES = new Set([4400, 4401, 4403, 4406, 4408, 4409, 4413, 4429, 1002, 1007, 1009]);
const SUBPROTOCOL = 'graphql-transport-ws';

/** Opens a connection, sends the frames, and waits until the server closes or goes quiet. */
function runWs(frames: Frame[], options: { protocols?: string | string[]; path?: string } = {}): Promise<WsOutcome> {
  const url = `${t.url.replace(/^http/, 'ws').replace(/\/graphql$/, '')}${options.path ?? '/graphql'}`;
  return new Promise<WsOutcome>((resolve) => {
    const outcome: WsOutcome = { messages: [] };
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, options.protocols ?? SUBPROTOCOL, { maxPayload: 100 * 1024 * 1024 });
    } catch (error) {
      // The client library refuses the subprotocol itself: nothing reached the server.
      resolve({ ...outcome, failure: `client: ${(error as Error).message}` });
      return;
    }
    let lastActivity = Date.now();
    let sending = true;
    // A close we start (1000, or 1005/1006 after our terminate) is not the server's answer.
    let closingOurselves = false;
    const close = () => {
      closingOurselves = true;
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
    };
    const finish = () => {
      clearInterval(quiet);
      resolve(outcome);
    };
    const quiet = setInterval(() => {
      if (sending || Date.now() - lastActivity < 60) return;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) close();
    }, 20);
    const deadline = setTimeout(close, 10_000);
    socket.on('unexpected-response', (_req, res) => {
      outcome.refused = res.statusCode;
      res.resume();
      clearTimeout(deadline);
      close();
    });
    socket.on('error', (error) => {
      if (outcome.refused === undefined) outcome.failure ??= error.message;
    });
    socket.on('message', (data) => {
      lastActivity = Date.now();
      outcome.messages.push(String(data));
    });
    socket.on('close', (code, reason) => {
      clearTimeout(deadline);
      if (!closingOurselves) outcome.close = { code, reason: String(reason) };
      finish();
    });
    socket.on('open', async () => {
      for (const frame of frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        if ('ack' in frame) {
          const until = Date.now() + 5_000;
          while (socket.readyState === WebSocket.OPEN && !outcome.messages.some((m) => m.includes('"connection_ack"')) && Date.now() < until) await sleep(2);
        } else if ('pauseMs' in frame) await sleep(frame.pauseMs);
        else if ('text' in frame) socket.send(frame.text);
        else socket.send(frame.binary, { binary: true });
        lastActivity = Date.now();
      }
      sending = false;
      lastActivity = Date.now();
    });
    socket.on('unexpected-response', () => (sending = false));
  });
}

/** The problem with a case's outcome, if any, and a short label for the figures. */
function judgeWs(outcome: WsOutcome): { label: string; problem?: string } {
  if (outcome.failure?.startsWith('client:')) return { label: 'refused by the client library' };
  // The server agreed to none of the offered subprotocols, so it named none (RFC 6455 4.2.2),
  // and the client fails the connection; graphql-ws then closes its side with 4406.
  if (outcome.failure === 'Server sent no subprotocol') return { label: 'no subprotocol agreed' };
  if (outcome.refused !== undefined) {
    const label = `HTTP ${outcome.refused}`;
    return outcome.refused >= 500 ? { label, problem: `upgrade answered ${outcome.refused}` } : { label };
  }
  const received = new Set<string>();
  for (const text of outcome.messages) {
    let message: any;
    try {
      message = JSON.parse(text);
    } catch {
      return { label: 'bad frame', problem: `a frame that is not JSON: ${text.slice(0, 200)}` };
    }
    received.add(String(message?.type));
    if (message?.type === 'error') {
      const problem = errorsProblem(message.payload);
      if (problem) return { label: 'error', problem };
      for (const e of message.payload) received.add(`error ${e.extensions.code}`);
    } else if (message?.type === 'next' && message.payload?.errors !== undefined) {
      const problem = errorsProblem(message.payload.errors);
      if (problem) return { label: 'next', problem };
      for (const e of message.payload.errors) received.add(`next ${e.extensions.code}`);
    } else if (!['connection_ack', 'next', 'complete', 'ping', 'pong'].includes(message?.type)) {
      return { label: 'bad message', problem: `an unexpected message: ${text.slice(0, 200)}` };
    }
  }
  const answers = [...received].filter((r) => r.startsWith('error ') || r.startsWith('next ')).sort();
  if (outcome.close) {
    const label = [`close ${outcome.close.code}`, ...answers].join(' + ');
    if (!CODED_CLOSES.has(outcome.close.code)) return { label, problem: `closed with ${outcome.close.code} "${outcome.close.reason}"` };
    return { label };
  }
  if (outcome.failure) return { label: 'failure', problem: `the connection failed: ${outcome.failure}` };
  return { label: ['open', ...(received.has('connection_ack') ? ['ack'] : []), ...(received.has('next') ? ['next'] : []), ...answers].join(' + ') };
}

async function wsCase(cls: string, frames: Frame[], options: { protocols?: string | string[]; path?: string } = {}): Promise<void> {
  const outcome = await runWs(frames, options);
  const { label, problem } = judgeWs(outcome);
  (outcomes[cls] ??= []).push(label);
  if (problem) {
    const shown = frames.map((f) => ('text' in f ? f.text.slice(0, 120) : 'binary' in f ? `<binary ${f.binary.length}>` : 'ack' in f ? '<ack>' : `<pause ${f.pauseMs}>`));
    report(cls, problem, JSON.stringify({ options, frames: shown }));
  }
}

// ---- arbitraries -----------------------------------------------------------------------------

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const weird = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
const text = (frame: unknown): Frame => ({ text: JSON.stringify(frame) });

const token = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(t.tokenFor(member), t.tokenFor(admin)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        t.tokenFor(gone),
        jwt.sign({ sub: member.id, exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET),
        jwt.sign({ sub: member.id }, TEST_SECRET),
        jwt.sign({ sub: member.id, exp: Math.floor(Date.now() / 1000) + 3600 }, 'not-the-secret'),
        jwt.sign({ sub: 'not-a-uuid', exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRET),
        jwt.sign({ sub: member.id, exp: Math.floor(Date.now() / 1000) + 400 * 86400 }, TEST_SECRET),
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom(t.tokenFor(member)).chain((s) => fc.tuple(fc.nat({ max: s.length - 1 }), fc.string({ maxLength: 3 })).map(([at, ins]) => s.slice(0, at) + ins + s.slice(at + 1))) },
    { weight: 1, arbitrary: printable(100) },
    { weight: 1, arbitrary: fc.constantFrom('a'.repeat(20_000), '', 'null', 'a.b.c') },
  );
const authorization = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'Bearer', 'Basic ', ''), token()).map(([p, tk]) => `${p}${tk}`) },
    { weight: 1, arbitrary: weird },
  );
const connectionParams = () =>
  fc.oneof(
    { weight: 4, arbitrary: authorization().map((a) => ({ authorization: a })) },
    { weight: 1, arbitrary: authorization().map((a) => ({ Authorization: a })) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: weird },
    { weight: 1, arbitrary: fc.dictionary(printable(12), weird, { maxKeys: 4 }) },
  );
const goodInit = () => text({ type: 'connection_init', payload: { authorization: `Bearer ${t.tokenFor(member)}` } });

const MESSAGE_ADDED = 'subscription ($id: ID!, $after: String) { messageAdded(sessionId: $id, after: $after) { cursor node { id content session { id title } } } }';
const SESSION_CHANGED = 'subscription ($filter: SessionFilter) { sessionChanged(filter: $filter) { kind sessionId at session { id title messageCount } } }';
const nest = (depth: number): string => (depth === 0 ? 'id' : `owner { sessions { nodes { ${nest(depth - 1)} } } }`);
const LIMIT_BREAKERS = [
  '{ me { id } }',
  'mutation { createSkill(input: { name: "x" }) { id } }',
  `subscription { sessionChanged { session { ${nest(8)} } } }`,
  `subscription { sessionChanged { session { messages(first: 100) { nodes { session { messages(first: 100) { nodes { session { messages(first: 100) { nodes { id } } } } } } } } } } }`,
  `subscription { ${Array.from({ length: 40 }, (_, i) => `a${i}: sessionChanged { kind }`).join(' ')} }`,
  `subscription { sessionChanged { ${Array.from({ length: 3000 }, () => 'kind').join(' ')} } }`,
  `subscription { sessionChanged { kind ${'@include(if: true) '.repeat(200)} } }`,
  `subscription { sessionChanged { kind } } subscription { messageAdded(sessionId: "${'0'.repeat(8)}-0000-0000-0000-000000000000") { cursor } }`,
  'subscription { __typename }',
  'subscription { sessionChanged { kind } sessionChanged { sessionId } }',
  'fragment A on SessionChange { ...B } fragment B on SessionChange { ...A } subscription { sessionChanged { ...A } }',
  `subscription { sessionChanged { kind } } ${'#'.repeat(110_000)}`,
  'subscription { sessionChanged { __schema { types { name } } } }',
];
const idArb = () => fc.oneof(fc.constantFrom(...ids.sessions, ...ids.others), fc.uuid(), printable(40), weird);
const documentPayload = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ query: fc.constant(MESSAGE_ADDED), variables: fc.record({ id: idArb(), after: fc.oneof(fc.constant(cursor), fc.constant(null), printable(60), weird) }, { requiredKeys: [] }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        query: fc.constant(SESSION_CHANGED),
        variables: fc.oneof(fc.record({ filter: fc.oneof(fc.record({ userId: idArb(), skillId: idArb(), nodeId: fc.oneof(printable(140), weird), isSyncing: weird, deleted: fc.oneof(fc.constantFrom('ACTIVE', 'DELETED', 'ALL', 'NONE'), weird) }, { requiredKeys: [] }), weird) }, { requiredKeys: [] }), weird),
      }),
    },
    { weight: 3, arbitrary: fc.record({ query: fc.constantFrom(...LIMIT_BREAKERS) }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<string>(MESSAGE_ADDED, SESSION_CHANGED).chain((d) =>
        fc.array(fc.tuple(fc.nat({ max: d.length }), fc.nat({ max: 6 }), fc.oneof(fc.constantFrom('{', '}', '(', ')', '$', '!', '...', '@skip(if: true)', 'query', 'mutation'), fc.string({ maxLength: 3 }))), { minLength: 1, maxLength: 3 })
          .map((edits) => ({ query: edits.reduce<string>((acc, [at, del, ins]) => acc.slice(0, at) + ins + acc.slice(at + del), d) })),
      ),
    },
    { weight: 1, arbitrary: fc.record({ query: fc.oneof(fc.string({ maxLength: 80 }), weird), variables: weird, operationName: weird, extensions: weird }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.oneof(fc.record({ documentId: fc.oneof(printable(70), weird) }), weird) },
  );
const opId = () => fc.oneof({ weight: 4, arbitrary: fc.constantFrom('1', '2', 'a') }, { weight: 1, arbitrary: fc.oneof(printable(20), fc.constant(''), fc.constant('x'.repeat(5000)), weird) });
const message = () =>
  fc.oneof(
    { weight: 2, arbitrary: connectionParams().map((payload) => text({ type: 'connection_init', payload })) },
    { weight: 4, arbitrary: fc.tuple(opId(), documentPayload()).map(([id, payload]) => text({ type: 'subscribe', id, payload })) },
    { weight: 2, arbitrary: opId().map((id) => text({ type: 'complete', id })) },
    { weight: 1, arbitrary: fc.constantFrom('ping', 'pong').chain((type) => fc.option(weird).map((payload) => text({ type, payload }))) },
    { weight: 1, arbitrary: fc.constantFrom('connection_ack', 'next', 'error', 'start', 'stop', 'connection_terminate', 'ka', '').map((type) => text({ type, id: '1', payload: {} })) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.jsonValue().map((v) => JSON.stringify(v))).map((s) => ({ text: s })) },
  );

// ---- graphql-ws properties -----------------------------------------------------------------

async function property<T>(arb: fc.Arbitrary<T>, run: (value: T) => Promise<void>, numRuns: number): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, run), { numRuns });
}

function problemsOf(classes: string[]): Record<string, { count: number; examples: string[] }> {
  return Object.fromEntries([...problems].filter(([kind]) => classes.some((c) => kind.startsWith(`${c}:`))));
}

/** The server still serves: no subscriber or connection is left behind, and a subscription works. */
async function stillServes(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((t.server.live.hub.subscriberCount > 0 || t.server.live.transports.connections > 0) && Date.now() < deadline) await sleep(20);
  expect({ subscribers: t.server.live.hub.subscriberCount, connections: t.server.live.transports.connections }).toEqual({ subscribers: 0, connections: 0 });
  const ws = liveWs(t.url, t.tokenFor(member));
  try {
    const received = ws.subscribe(MESSAGE_ADDED, { id: ids.sessions[1] });
    await subscribed(t.server.live.hub, 1);
    await sleep(50);
    const posted = await t.gql('mutation ($id: ID!) { postMessage(input: { sessionId: $id, role: USER, content: "still here" }) { id } }', { id: ids.sessions[1] }, { as: member });
    await received.waitFor(1);
    expect(received.results[0].data.messageAdded.node.id).toBe(posted.data.postMessage.id);
  } finally {
    await ws.dispose();
  }
  expect((await fetch(t.url.replace(/graphql$/, 'healthz'))).status).toBe(200);
}

test('frames that break the protocol: bad JSON, unknown types, binary, huge, invalid UTF-8', async () => {
  const classes = ['bad-json', 'unknown-type', 'binary', 'huge'];
  await property(
    fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('{', '{"type":', '[]', 'null', '"connection_init"', '{"type":"connection_init"', '\u0000')),
    (raw) => wsCase('bad-json', [{ text: raw }]),
    150,
  );
  await property(
    fc.tuple(fc.boolean(), fc.oneof(printable(20), weird), fc.oneof(weird, fc.constant(undefined))).map(([init, type, payload]) => [...(init ? [goodInit(), ACK] : []), text({ type, id: '1', payload })]),
    (frames) => wsCase('unknown-type', frames),
    150,
  );
  await property(
    fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.constant(Buffer.from(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.tokenFor(member)}` } })))).chain((b) =>
      fc.constantFrom<Frame[]>([{ binary: b }], [goodInit(), ACK, { binary: b }], [{ text: b.toString('latin1') }]),
    ),
    (frames) => wsCase('binary', frames),
    100,
  );
  // Past the server's 256 KiB frame limit (1009), just under it (a document past the length
  // limit: BAD_USER_INPUT), and a text frame that is not UTF-8 (1007).
  await property(
    fc.constantFrom<Frame[]>(
      [goodInit(), ACK, { text: 'x'.repeat(300 * 1024) }],
      [goodInit(), ACK, text({ type: 'subscribe', id: '1', payload: { query: `subscription { sessionChanged { kind } } #${'x'.repeat(200 * 1024)}` } })],
      [goodInit(), ACK, text({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED, variables: { filter: { nodeId: 'n'.repeat(250 * 1024) } } } })],
      [text({ type: 'connection_init', payload: { authorization: `Bearer ${'a'.repeat(250 * 1024)}` } })],
      [{ binary: Buffer.alloc(400 * 1024, 0x61) }],
    ),
    (frames) => wsCase('huge', frames),
    20,
  );
  for (const bytes of [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80]]) {
    // A text frame with invalid UTF-8: the ws client sends a Buffer as text when told so.
    const outcome = await new Promise<WsOutcome>((resolve) => {
      const socket = new WebSocket(t.url.replace(/^http/, 'ws'), SUBPROTOCOL);
      const result: WsOutcome = { messages: [] };
      socket.on('open', () => socket.send(Buffer.from(bytes), { binary: false }));
      socket.on('message', (d) => result.messages.push(String(d)));
      socket.on('error', () => undefined);
      socket.on('close', (code, reason) => resolve({ ...result, close: { code, reason: String(reason) } }));
    });
    const { label, problem } = judgeWs(outcome);
    (outcomes['invalid-utf8'] ??= []).push(label);
    if (problem) report('invalid-utf8', problem, JSON.stringify(bytes));
    expect(outcome.close?.code).toBe(1007);
  }
  expect(problemsOf([...classes, 'invalid-utf8'])).toEqual({});
  await stillServes();
}, 180_000);

test('the handshake: wrong subprotocols and paths, bad connectionParams and tokens, no or late connection_init', async () => {
  const classes = ['subprotocol', 'connection-params', 'init-order'];
  await property(
    fc.record({
      protocols: fc.oneof(fc.constantFrom<string | string[]>([], 'graphql-ws', 'graphql', 'GRAPHQL-TRANSPORT-WS', ['graphql-ws', SUBPROTOCOL], [SUBPROTOCOL, 'x'], 'x'), printable(20)),
      path: fc.constantFrom('/graphql', '/graphql', '/graphql/', '/graphqlx', '/graphql?x=1', '/', '/graphql/stream', '/%2e%2e/graphql'),
    }),
    ({ protocols, path }) => wsCase('subprotocol', [goodInit(), ACK, text({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } })], { protocols, path }),
    120,
  );
  await property(
    fc.tuple(connectionParams(), fc.boolean()).map(([payload, subscribe]) => [
      text(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload }),
      ...(subscribe ? [ACK, text({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } })] : []),
    ]),
    (frames) => wsCase('connection-params', frames),
    250,
  );
  // Subscribe/complete before connection_init (4401), a second connection_init (4429), none or a
  // late one (4408 after the timeout).
  await property(
    fc.constantFrom<Frame[]>(
      [text({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } })],
      [text({ type: 'complete', id: '1' }), goodInit()],
      [text({ type: 'ping' }), goodInit(), ACK, text({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } })],
      [goodInit(), text({ type: 'subscribe', id: '1', payload: { query: SESSION_CHANGED } })],
      [goodInit(), goodInit()],
      [goodInit(), { pauseMs: 30 }, goodInit()],
      [{ pauseMs: INIT_TIMEOUT_MS + 150 }],
      [{ pauseMs: INIT_TIMEOUT_MS + 150 }, goodInit()],
      [text({ type: 'connection_init', payload: { authorization: 'Bearer nope' } }), goodInit()],
    ),
    (frames) => wsCase('init-order', frames),
    40,
  );
  expect(problemsOf(classes)).toEqual({});
  await stillServes();
}, 180_000);

test('subscribe messages: duplicate and odd ids, documents that break the limits, random variables, too many per connection', async () => {
  const classes = ['documents', 'ids', 'sequences'];
  await property(
    fc.array(documentPayload(), { minLength: 1, maxLength: 2 }).map((payloads) => [goodInit(), ACK, ...payloads.map((payload, i) => text({ type: 'subscribe', id: String(i), payload }))]),
    (frames) => wsCase('documents', frames),
    400,
  );
  // The same id twice (4409), odd ids, complete for unknown ids, more than the connection may hold.
  await property(
    fc.array(fc.tuple(opId(), fc.constantFrom('subscribe', 'subscribe', 'complete')), { minLength: 1, maxLength: PER_CONNECTION + 3 }).map((ops) => [
      goodInit(),
      ACK,
      ...ops.map(([id, type]) => (type === 'subscribe' ? text({ type, id, payload: { query: SESSION_CHANGED } }) : text({ type, id }))),
    ]),
    (frames) => wsCase('ids', frames),
    200,
  );
  // Random interleavings of every kind of message, with and without a good connection_init first.
  await property(
    fc.tuple(fc.boolean(), fc.array(fc.oneof({ weight: 6, arbitrary: message() }, { weight: 1, arbitrary: fc.constant(ACK) }), { minLength: 1, maxLength: 6 })).map(([init, messages]) => [...(init ? [goodInit(), ACK] : []), ...messages]),
    (frames) => wsCase('sequences', frames),
    400,
  );
  expect(problemsOf(classes)).toEqual({});
  await stillServes();
}, 180_000);

// ---- graphql-sse -----------------------------------------------------------------------------

interface SseOutcome {
  status: number;
  contentType: string;
  body: string;
  network?: string;
}

/** One request to /graphql/stream; an open event stream is read briefly, then aborted. */
async function runSse(init: { method: string; headers: Record<string, string>; body?: string; query?: string }): Promise<SseOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 400);
  try {
    const response = await fetch(`${t.url}/stream${init.query ?? ''}`, { method: init.method, headers: init.headers, body: init.body, signal: controller.signal });
    let body = '';
    try {
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        body += decoder.decode(chunk.value, { stream: true });
        if (body.length > 100_000) break;
      }
    } catch {
      // aborted: an open stream
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
  } catch (error) {
    return { status: 0, contentType: '', body: '', network: (error as Error).name };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function judgeSse(outcome: SseOutcome): { label: string; problem?: string } {
  if (outcome.network) return { label: 'network', problem: `no answer: ${outcome.network}` };
  const label = `${outcome.status}`;
  if (outcome.status >= 500) return { label, problem: `HTTP ${outcome.status}: ${outcome.body.slice(0, 200)}` };
  if (outcome.contentType.includes('text/event-stream')) {
    const codes: string[] = [];
    for (const line of outcome.body.split('\n')) {
      if (!line.startsWith('data:') || line.trim() === 'data:') continue;
      let data: any;
      try {
        data = JSON.parse(line.slice(5));
      } catch {
        return { label, problem: `an event that is not JSON: ${line.slice(0, 200)}` };
      }
      if (data?.errors !== undefined) {
        const problem = errorsProblem(data.errors);
        if (problem) return { label, problem };
        codes.push(...data.errors.map((e: any) => e.extensions.code));
      }
    }
    return { label: [`${label} stream`, ...new Set(codes)].join(' + ') };
  }
  let json: any;
  try {
    json = outcome.body ? JSON.parse(outcome.body) : undefined;
  } catch {
    json = undefined;
  }
  // A single-connection reservation (PUT): its token as text.
  if (outcome.status === 201 && outcome.contentType.startsWith('text/plain') && /^[0-9a-f-]{36}$/.test(outcome.body)) return { label: '201 reservation' };
  if (json === undefined) return outcome.status >= 400 ? { label: `${label} (no JSON)` } : { label, problem: `non-JSON ${outcome.status}: ${outcome.body.slice(0, 200)}` };
  const problem = json.errors !== undefined ? errorsProblem(json.errors) : outcome.status >= 400 ? undefined : `JSON ${outcome.status} without errors: ${outcome.body.slice(0, 200)}`;
  return { label: [label, ...new Set<string>((json.errors ?? []).map((e: any) => String(e?.extensions?.code)))].join(' + '), problem };
}

async function sseCase(cls: string, init: { method: string; headers: Record<string, string>; body?: string; query?: string }): Promise<void> {
  const outcome = await runSse(init);
  const { label, problem } = judgeSse(outcome);
  (outcomes[cls] ??= []).push(label);
  if (problem) report(cls, problem, JSON.stringify(init).slice(0, 600));
}

test('graphql-sse: bad bodies, tokens, headers and methods are 4xx or coded errors, never a 5xx', async () => {
  const classes = ['sse-body', 'sse-token', 'sse-headers'];
  const good = () => ({ 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(member)}` });
  const body = fc.oneof(
    { weight: 4, arbitrary: documentPayload().map((p) => JSON.stringify(p)) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', `{"query":"${'x'.repeat(300_000)}"}`, '{"query":"subscription { sessionChanged { kind } }","variables":"x"}') },
  );
  await property(body, (raw) => sseCase('sse-body', { method: 'POST', headers: good(), body: raw }), 300);
  await property(
    authorization().filter((a) => typeof a === 'string').map((a) => a as string),
    (auth) => sseCase('sse-token', { method: 'POST', headers: { ...good(), authorization: auth }, body: JSON.stringify({ query: SESSION_CHANGED }) }),
    200,
  );
  await property(
    fc.record({
      method: fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
      accept: fc.oneof(fc.constantFrom('text/event-stream', 'application/json', '*/*', 'text/plain', '', 'text/event-stream, */*'), printable(30)),
      contentType: fc.oneof(fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''), printable(30)),
      streamToken: fc.option(fc.oneof(fc.uuid(), printable(40)), { nil: undefined }),
      query: fc.constantFrom('', `?query=${encodeURIComponent(SESSION_CHANGED)}`, '?query=%7B', `?token=x&query=${encodeURIComponent('{ me { id } }')}`),
    }),
    ({ method, accept, contentType, streamToken, query }) => {
      const headers: Record<string, string> = { authorization: `Bearer ${t.tokenFor(member)}` };
      if (accept) headers.accept = accept;
      if (contentType) headers['content-type'] = contentType;
      if (streamToken !== undefined) headers['x-graphql-event-stream-token'] = streamToken;
      const hasBody = method !== 'GET';
      return sseCase('sse-headers', { method, headers, body: hasBody ? JSON.stringify({ query: SESSION_CHANGED }) : undefined, query });
    },
    250,
  );
  expect(problemsOf(classes)).toEqual({});
  await stillServes();
}, 180_000);
