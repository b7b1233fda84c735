import { MessageRole } from '../../src/messages/message.entity';
import { User } from '../../src/users/user.entity';
import { codes, GqlResult, useTestServer } from '../harness';

const { t, f } = useTestServer();

const at = (seconds: number) => new Date(Date.UTC(2026, 5, 1, 0, 0, seconds));

const MESSAGES = `query($id: ID!, $first: Int, $after: String, $orderBy: MessageOrder) {
  session(id: $id) {
    messageCount
    lastMessage { id }
    messages(first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      nodes { id }
      edges { cursor }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}`;

async function pages(as: User, id: string, first: number, orderBy?: string): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const result: GqlResult = await t.gql(MESSAGES, { id, first, after, orderBy }, { as });
    expect(result.errors).toBeUndefined();
    const { nodes, pageInfo } = result.data.session.messages;
    seen.push(...nodes.map((n: { id: string }) => n.id));
    if (!pageInfo.hasNextPage) return seen;
    after = pageInfo.endCursor;
  }
}

describe('Session.messages', () => {
  it('lists live messages in conversation order by default and newest first on request', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const messages = [];
    for (let i = 0; i < 7; i++) messages.push(await f.message(session, { createdAt: at(i) }));
    await f.message(session, { createdAt: at(3), deletedAt: at(30) }); // deleted on its own
    const live = messages.map((m) => m.id);
    expect(await pages(owner, session.id, 3)).toEqual(live);
    expect(await pages(owner, session.id, 2, 'CREATED_AT_DESC')).toEqual([...live].reverse());
    const result = await t.gql(MESSAGES, { id: session.id, first: 2 }, { as: owner });
    expect(result.data.session).toMatchObject({ messageCount: 7, lastMessage: { id: live[6] } });
    expect(result.data.session.messages).toMatchObject({ totalCount: 7, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
  });

  it('has no lastMessage and a zero count without messages', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const result = await t.gql(MESSAGES, { id: session.id }, { as: owner });
    expect(result.data.session).toMatchObject({ messageCount: 0, lastMessage: null, messages: { totalCount: 0, nodes: [] } });
  });

  it('lists, for a soft-deleted session, only the messages deleted with it', async () => {
    const owner = await f.user();
    const session = await f.session(owner, { createdAt: at(0) });
    const stamp = at(100);
    const before = await f.message(session, { createdAt: at(1), deletedAt: at(50) });
    const withIt = [await f.message(session, { createdAt: at(2), deletedAt: stamp }), await f.message(session, { createdAt: at(3), deletedAt: stamp })];
    await t.dataSource.query('UPDATE sessions SET deleted_at = $2 WHERE id = $1', [session.id, stamp]);
    const q = `{ sessions(filter: { deleted: DELETED }) { nodes { id messageCount lastMessage { id }
      messages { nodes { id session { id deletedAt } } } } } }`;
    const result = await t.gql(q, {}, { as: owner });
    expect(result.errors).toBeUndefined();
    const [node] = result.data.sessions.nodes;
    expect(node.messageCount).toBe(2);
    expect(node.lastMessage.id).toBe(withIt[1].id);
    expect(node.messages.nodes.map((m: any) => m.id)).toEqual(withIt.map((m) => m.id));
    expect(node.messages.nodes[0].session).toEqual({ id: session.id, deletedAt: stamp.toISOString() });
    expect(node.messages.nodes.map((m: any) => m.id)).not.toContain(before.id);
  });

  it('rejects a cursor from the other ordering or from a session list', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    await f.message(session, { createdAt: at(1) });
    await f.message(session, { createdAt: at(2) });
    const first = await t.gql(MESSAGES, { id: session.id, first: 1 }, { as: owner });
    const cursor = first.data.session.messages.pageInfo.endCursor;
    const sessions = await t.gql('{ sessions(first: 1) { pageInfo { endCursor } } }', {}, { as: owner });
    for (const vars of [{ after: cursor, orderBy: 'CREATED_AT_DESC' }, { after: sessions.data.sessions.pageInfo.endCursor }]) {
      expect(codes(await t.gql(MESSAGES, { id: session.id, first: 1, ...vars }, { as: owner }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(codes(await t.gql(MESSAGES, { id: session.id, first: 101 }, { as: owner }))).toEqual(['BAD_USER_INPUT']);
  });

  it('batches pages with different arguments separately', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    for (let i = 0; i < 4; i++) await f.message(session, { createdAt: at(i) });
    const q = `query($id: ID!) { session(id: $id) {
      a: messages(first: 1) { nodes { content createdAt } }
      b: messages(first: 2, orderBy: CREATED_AT_DESC) { nodes { createdAt } } } }`;
    const result = await t.gql(q, { id: session.id }, { as: owner });
    expect(result.data.session.a.nodes.map((n: any) => n.createdAt)).toEqual([at(0).toISOString()]);
    expect(result.data.session.b.nodes.map((n: any) => n.createdAt)).toEqual([at(3).toISOString(), at(2).toISOString()]);
  });
});

describe('Query.message', () => {
  const Q = `query($id: ID!) { message(id: $id) { id role content createdAt deletedAt session { id } audio { key url contentType byteSize } } }`;

  it('returns a visible message with its session and audio', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const plain = await f.message(session, { role: MessageRole.ASSISTANT });
    const voiced = await f.message(session, { audioKey: 'audio/2026/11/abc.ogg', audioContentType: 'audio/ogg', audioByteSize: 1234 });
    const a = await t.gql(Q, { id: plain.id }, { as: owner });
    expect(a.data.message).toMatchObject({ id: plain.id, role: 'ASSISTANT', session: { id: session.id }, audio: null, deletedAt: null });
    const b = await t.gql(Q, { id: voiced.id }, { as: owner });
    expect(b.data.message.audio).toEqual({
      key: 'audio/2026/11/abc.ogg',
      url: expect.stringContaining('audio/2026/11/abc.ogg'),
      contentType: 'audio/ogg',
      byteSize: 1234,
    });
  });

  it('is null for a deleted message, a message in a deleted session, or another member’s message', async () => {
    const owner = await f.user();
    const admin = await f.admin();
    const live = await f.session(owner);
    const gone = await f.session(owner, { deletedAt: at(9) });
    const deleted = await f.message(live, { deletedAt: at(5) });
    const inGone = await f.message(gone, { deletedAt: at(9) });
    const visible = await f.message(live);
    const stranger = await f.user();
    for (const id of [deleted.id, inGone.id]) expect((await t.gql(Q, { id }, { as: owner })).data.message).toBeNull();
    expect((await t.gql(Q, { id: visible.id }, { as: stranger })).data.message).toBeNull();
    expect((await t.gql(Q, { id: visible.id }, { as: admin })).data.message.id).toBe(visible.id);
    expect(codes(await t.gql(Q, { id: 'x' }, { as: owner }))).toEqual(['BAD_USER_INPUT']);
  });
});
