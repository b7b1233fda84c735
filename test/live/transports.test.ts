import { useTestServer } from '../harness';
import { liveSse, liveWs, subscribed } from './support/clients';

const { t, f } = useTestServer();

const SESSION_CHANGED = `subscription ($filter: SessionFilter) {
  sessionChanged(filter: $filter) { kind sessionId at session { id title messageCount lastMessage { content } owner { id } } }
}`;
const MESSAGE_ADDED = `subscription ($sessionId: ID!, $after: String) {
  messageAdded(sessionId: $sessionId, after: $after) { cursor node { id content session { id } } }
}`;
const POST = 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }';

describe('live transports', () => {
  it('delivers sessionChanged over graphql-ws with the session after the change', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const ws = liveWs(t.url, t.tokenFor(owner));
    try {
      const received = ws.subscribe(SESSION_CHANGED);
      await subscribed(t.server.live.hub, 1);
      const posted = await t.gql(POST, { input: { sessionId: session.id, role: 'USER', content: 'hello live' } }, { as: owner });
      expect(posted.errors).toBeUndefined();
      await received.waitFor(1);
      expect(received.results[0]).toEqual({
        data: {
          sessionChanged: {
            kind: 'UPDATED',
            sessionId: session.id,
            at: expect.stringMatching(/Z$/),
            session: { id: session.id, title: session.title, messageCount: 1, lastMessage: { content: 'hello live' }, owner: { id: owner.id } },
          },
        },
      });
    } finally {
      await ws.dispose();
    }
  });

  it('delivers messageAdded over SSE, replaying from `after` first', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const first = await f.message(session, { content: 'one' });
    await f.message(session, { content: 'two' });
    const page = await t.gql('query ($id: ID!) { session(id: $id) { messages(first: 1) { pageInfo { endCursor } } } }', { id: session.id }, { as: owner });
    const after = page.data.session.messages.pageInfo.endCursor;
    const sse = liveSse(t.url, t.tokenFor(owner));
    try {
      const received = sse.subscribe(MESSAGE_ADDED, { sessionId: session.id, after });
      await received.waitFor(1);
      await t.gql(POST, { input: { sessionId: session.id, role: 'USER', content: 'three' } }, { as: owner });
      await received.waitFor(2);
      expect(received.results.map((r) => r.data.messageAdded.node.content)).toEqual(['two', 'three']);
      expect(received.results[0].data.messageAdded.node.id).not.toBe(first.id);
    } finally {
      sse.dispose();
    }
  });

  it('refuses a connection without a valid token with close code 4401 (ws) and 401 (SSE)', async () => {
    const ws = liveWs(t.url, null);
    const received = ws.subscribe(SESSION_CHANGED);
    await received.done();
    expect(ws.closed?.code).toBe(4401);
    expect(ws.closed?.reason).toMatch(/^UNAUTHENTICATED/);
    await ws.dispose();
    const sse = liveSse(t.url, 'not-a-token');
    const refused = sse.subscribe(SESSION_CHANGED);
    await refused.done();
    expect(JSON.stringify(refused.error)).toMatch(/UNAUTHENTICATED|401/);
    sse.dispose();
  });
  it('refuses bad operations with the codes POST /graphql uses, on both transports (validation, depth, cost, ids, cursors)', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const nest = (depth: number): string => (depth === 0 ? 'id' : `owner { sessions { nodes { ${nest(depth - 1)} } } }`);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['{ me { id } }', {}, /only subscriptions are served here/],
      ['subscription { sessionChanged { nope } }', {}, /Cannot query field "nope"/],
      ['subscription { sessionChanged { kind ', {}, /Syntax Error/],
      [`subscription { sessionChanged { session { ${nest(6)} } } }`, {}, /depth/i],
      [
        'subscription { sessionChanged { session { messages(first: 100) { nodes { session { messages(first: 100) { nodes { session { messages(first: 100) { nodes { id } } } } } } } } } } }',
        {},
        /Query cost \d+ exceeds the limit of 50000/,
      ],
      [MESSAGE_ADDED, { sessionId: 'not-a-uuid' }, /sessionId: must be a UUID/],
      [MESSAGE_ADDED, { sessionId: session.id, after: 'bm90LWEtY3Vyc29y' }, /after: is not a cursor of this list/],
    ];
    const ws = liveWs(t.url, t.tokenFor(owner));
    try {
      for (const [query, variables, message] of cases) {
        const received = ws.subscribe(query, variables);
        await received.done();
        expect({ query, errors: received.error }).toEqual({
          query,
          errors: [expect.objectContaining({ message: expect.stringMatching(message), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', validation: expect.any(Array) }) })],
        });
        const response = await fetch(`${t.url}/stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(owner)}` },
          body: JSON.stringify({ query, variables }),
        });
        expect({ query, status: response.status }).toEqual({ query, status: 400 });
        const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
        expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
        expect(body.errors[0].message).toMatch(message);
      }
    } finally {
      await ws.dispose();
    }
    // Counted like requests: the error codes and the live gauges are in /metrics.
    const metrics = await (await fetch(t.url.replace(/graphql$/, 'metrics'))).text();
    expect(metrics).toMatch(/hub_graphql_errors_total\{code="BAD_USER_INPUT"\} \d+/);
    expect(metrics).toMatch(/hub_live_connections\{transport="ws"\} \d+/);
  });

  it('answers NOT_FOUND for messageAdded on a session the viewer may not see, like a mutation would', async () => {
    const [owner, other] = await Promise.all([f.user(), f.user()]);
    const session = await f.session(owner);
    const ws = liveWs(t.url, t.tokenFor(other));
    try {
      const received = ws.subscribe(MESSAGE_ADDED, { sessionId: session.id });
      await received.done();
      expect(received.error).toEqual([
        expect.objectContaining({ message: `Session ${session.id} not found`, path: ['messageAdded'], extensions: { code: 'NOT_FOUND' } }),
      ]);
    } finally {
      await ws.dispose();
    }
    // Over SSE: the error as the stream's one event (graphql-sse took an errors-only result for
    // execution arguments and answered 400 "Unable to detect operation AST").
    const response = await fetch(`${t.url}/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(other)}` },
      body: JSON.stringify({ query: MESSAGE_ADDED, variables: { sessionId: session.id } }),
    });
    expect(response.status).toBe(200);
    const events = (await response.text()).split('\n').filter((line) => line.startsWith('data:') && line.length > 6);
    expect(events.map((line) => JSON.parse(line.slice(5)))).toEqual([
      { data: null, errors: [expect.objectContaining({ message: `Session ${session.id} not found`, extensions: { code: 'NOT_FOUND' } })] },
    ]);
  });

  it('answers malformed SSE requests with coded 4xx errors, not graphql-sse’s uncoded ones', async () => {
    const owner = await f.user();
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${t.url}/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.tokenFor(owner)}`, ...headers },
        body,
      });
    const cases: [Promise<Response>, number, string][] = [
      [post('{"query":'), 400, 'body'],
      [post('[1]'), 400, 'body'],
      [post('{}'), 400, 'query'],
      [post(JSON.stringify({ query: SESSION_CHANGED, variables: 'x' })), 400, 'variables'],
      [post(JSON.stringify({ query: SESSION_CHANGED }), { accept: 'application/json' }), 406, 'accept'],
      [post(JSON.stringify({ query: SESSION_CHANGED }), { 'content-type': 'text/plain' }), 415, 'content-type'],
      [post(`{"query":"${'x'.repeat(300 * 1024)}"}`), 413, 'body'],
    ];
    for (const [pending, status, field] of cases) {
      const response = await pending;
      const body = (await response.json()) as { errors: { extensions: { code: string; validation: { field: string }[] } }[] };
      expect({ status: response.status, code: body.errors[0].extensions.code, field: body.errors[0].extensions.validation[0].field }).toEqual({ status, code: 'BAD_USER_INPUT', field });
    }
  });
});
