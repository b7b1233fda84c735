/**
 * Issue #25, item 1: subscriptions by trusted document (`documentId`) on graphql-ws and SSE, in
 * `allow` and `require` modes, with the refusals and codes of POST /graphql. The oracle is the
 * HTTP answer to the same request: where HTTP refuses, the live start refuses with the same
 * reason; where HTTP would run it (and then refuse a subscription over HTTP), the live start runs.
 * The one difference is forced by the protocols: their clients must send `query` as a string, so
 * `query: ""` beside a `documentId` is no text on the live transports.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { documentId } from '../support/hostile';
import { rawRequest } from '../support/raw-http';
import { LiveOutcome, reasonOf, settledTo, sseSubscribe, wsSubscribe } from './support/raw-live';

const SESSION_CHANGED = 'subscription Changes { sessionChanged { kind sessionId } }';
const MESSAGE_ADDED = 'subscription Follow($id: ID!) { messageAdded(sessionId: $id) { node { id content } } }';
const idOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const MANIFEST = path.join(mkdtempSync(path.join(tmpdir(), 'hub-live-manifest-')), 'persisted-documents.json');
writeFileSync(MANIFEST, JSON.stringify({ [idOf(SESSION_CHANGED)]: SESSION_CHANGED, [idOf(MESSAGE_ADDED)]: MESSAGE_ADDED }));

let require_: TestServer;
let allow: TestServer;
let member: User;

beforeAll(async () => {
  [require_, allow] = await Promise.all([
    startTestServer({ HUB_TRUSTED_DOCUMENTS: 'require', HUB_TRUSTED_DOCUMENTS_FILE: MANIFEST, HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' }),
    startTestServer({ HUB_TRUSTED_DOCUMENTS: 'allow', HUB_TRUSTED_DOCUMENTS_FILE: MANIFEST, HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' }),
  ]);
  member = await factories(require_.dataSource).user();
});
afterAll(async () => {
  await Promise.all([require_?.close(), allow?.close()]);
});

/** What POST /graphql answers to the request (its refusal reason, or `ran` for SUBSCRIPTION_OVER_HTTP). */
async function httpReason(t: TestServer, body: Record<string, unknown>): Promise<string> {
  const answer = await rawRequest(t.url, { headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokenFor(member)}` }, body: JSON.stringify(body) });
  const [first] = answer.json?.errors ?? [];
  const reason = String(first?.extensions?.reason ?? first?.extensions?.code ?? answer.status);
  return reason === 'SUBSCRIPTION_OVER_HTTP' ? 'ran' : reason;
}

const request = fc.record({
  server: fc.constantFrom('require', 'allow'),
  documentId: fc.option(documentId(idOf(SESSION_CHANGED)), { nil: undefined }),
  query: fc.option(fc.constantFrom(SESSION_CHANGED, 'subscription { sessionChanged { sessionId } }', ''), { nil: undefined }),
});

async function property(run: (t: TestServer, body: Record<string, unknown>) => Promise<LiveOutcome>, transport: 'ws' | 'sse') {
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(request, async ({ server, documentId: id, query }) => {
      const t = server === 'require' ? require_ : allow;
      const body: Record<string, unknown> = { documentId: id, query };
      const live = await run(t, body);
      // graphql-ws and graphql-sse clients send `query: ""` with a documentId: no text.
      const asHttp = id !== undefined && id !== null && query === '' ? { documentId: id } : body;
      // A graphql-transport-ws subscribe with neither (`documentId: null` names nothing) is not a
      // message of the protocol: 4400.
      const expected = transport === 'ws' && (id === undefined || id === null) && query === undefined ? 'close 4400' : await httpReason(t, asHttp);
      seen.add(`${server} ${expected}`);
      expect({ body, live: reasonOf(live) }).toEqual({ body, live: expected });
      if (!live.ran) for (const error of live.errors ?? []) expect(typeof error.extensions?.code).toBe('string');
    }),
    {
      numRuns: 60,
      examples: [
        [{ server: 'require', documentId: idOf(SESSION_CHANGED), query: undefined }],
        [{ server: 'require', documentId: idOf(SESSION_CHANGED), query: '' }],
        [{ server: 'allow', documentId: idOf(SESSION_CHANGED), query: undefined }],
        [{ server: 'require', documentId: undefined, query: SESSION_CHANGED }],
        [{ server: 'allow', documentId: undefined, query: SESSION_CHANGED }],
        [{ server: 'require', documentId: 'sha256:0', query: undefined }],
      ],
    },
  );
  // Both outcomes occur in every run (the examples above): a property that cannot miss either.
  expect([...seen].some((s) => s.endsWith(' ran'))).toBe(true);
  expect([...seen].some((s) => s.includes('TRUSTED_DOCUMENT_REQUIRED'))).toBe(true);
}

describe('subscriptions by documentId, as POST /graphql decides', () => {
  it('over graphql-ws (raw frames: documentId alone, or with query "")', () =>
    property((t, body) => wsSubscribe(t.url, t.tokenFor(member), body, t.server.live.hub), 'ws'), 240_000);

  it('over SSE (distinct connections)', () =>
    property((t, body) => sseSubscribe(t.url, t.tokenFor(member), body, t.server.live.hub), 'sse'), 240_000);
});

describe("the libraries' own clients in require mode", () => {
  // Each starts from no subscriber (the previous test's client may still be leaving).
  beforeEach(() => settledTo(require_.server.live.hub, 0));

  it('graphql-ws delivers a messageAdded named by documentId', async () => {
    const f = factories(require_.dataSource);
    const session = await f.session(member);
    const client = createWsClient({ url: require_.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${require_.tokenFor(member)}` } });
    try {
      const results: any[] = [];
      // graphql-ws's client requires `query`: a trusted document is sent with "".
      client.subscribe({ query: '', documentId: idOf(MESSAGE_ADDED), variables: { id: session.id } } as { query: string }, { next: (r) => void results.push(r), error: () => undefined, complete: () => undefined });
      while (require_.server.live.hub.subscriberCount === 0) await new Promise((r) => setTimeout(r, 10));
      const message = await f.message(session, { content: 'by document id' });
      while (results.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(results).toEqual([{ data: { messageAdded: { node: { id: message.id, content: 'by document id' } } } }]);
    } finally {
      await client.dispose();
    }
  }, 30_000);

  it.each([false, true])('graphql-sse (singleConnection: %s) delivers a sessionChanged named by documentId', async (singleConnection) => {
    const client = createSseClient({ url: `${require_.url}/stream`, singleConnection, retryAttempts: 0, headers: { authorization: `Bearer ${require_.tokenFor(member)}` } });
    const before = require_.server.live.hub.subscriberCount;
    try {
      const results: any[] = [];
      client.subscribe({ query: '', documentId: idOf(SESSION_CHANGED) } as { query: string }, { next: (r) => void results.push(r), error: (e) => void results.push({ error: String(e) }), complete: () => undefined });
      while (require_.server.live.hub.subscriberCount === before && results.length === 0) await new Promise((r) => setTimeout(r, 10));
      const session = await factories(require_.dataSource).session(member);
      while (results.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(results[0]).toEqual({ data: { sessionChanged: { kind: 'CREATED', sessionId: session.id } } });
    } finally {
      client.dispose();
    }
  }, 30_000);
});
