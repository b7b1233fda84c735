import { codes, useTestServer } from '../harness';
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
    void codes;
  });
});
