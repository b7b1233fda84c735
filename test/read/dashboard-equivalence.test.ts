import fc from 'fast-check';
import { MessageRole } from '../../src/messages/message.entity';
import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';

const { t, f } = useTestServer();

// Every relation a dashboard reads, under the arguments the properties below vary.
const DASHBOARD = `query Q($first: Int!, $filter: SessionFilter, $orderBy: SessionOrder, $mFirst: Int!, $mOrder: MessageOrder) {
  sessions(first: $first, filter: $filter, orderBy: $orderBy) {
    nodes { ...S }
  }
}
fragment S on Session {
  id title isSyncing createdAt updatedAt deletedAt
  owner { id displayName }
  skills { id name }
  messageCount
  lastMessage { id }
  messages(first: $mFirst, orderBy: $mOrder) { totalCount pageInfo { hasNextPage } nodes { id role content createdAt deletedAt } }
  nodeSync { nodeId status updatedAt }
}`;

const BY_ID = DASHBOARD.replace(
  /query Q\([^)]*\) \{\n  sessions\([^)]*\) \{\n    nodes \{ \.\.\.S \}\n  \}\n\}/,
  `query One($id: ID!, $mFirst: Int!, $mOrder: MessageOrder) { session(id: $id) { ...S } }`,
);

let members: User[];
let admin: User;

/** A few users' sessions: live and soft-deleted ones, messages deleted on their own and with their
 * session, live and deleted skills, node sync rows of every status. */
beforeAll(async () => {
  admin = await f.admin();
  members = [await f.user(), await f.user()];
  const skills = [await f.skill(), await f.skill(), await f.skill(), await f.skill()];
  for (const [i, owner] of members.entries()) {
    for (let j = 0; j < 6; j += 1) {
      const session = await f.session(owner, { title: `s${i}-${j}` });
      for (let k = 0; k < j; k += 1) {
        const message = await f.message(session, { role: [MessageRole.USER, MessageRole.ASSISTANT, MessageRole.TOOL][k % 3] });
        if (k === 1) await t.dataSource.getRepository('Message').softRemove(message);
      }
      for (const skill of skills.slice(0, j % 4)) await f.link(session, skill);
      if (j % 2) await f.nodeSync(session, `node-${j}`, [SyncStatus.PENDING, SyncStatus.SYNCED, SyncStatus.FAILED][j % 3]);
      if (j === 4) await t.dataSource.getRepository(Session).softRemove(session);
    }
  }
  await t.dataSource.getRepository('Skill').softRemove(skills[1]);
});

const iso = (value: Date | null) => (value ? value.toISOString() : null);
const byTimeThenId = (desc: boolean) => (a: { t: Date; id: string }, b: { t: Date; id: string }) => {
  const d = a.t.getTime() - b.t.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return desc ? -d : d;
};

/** The same dashboard computed in JavaScript from the raw rows: the oracle. */
async function expected(viewer: User, v: { first: number; filter: any; orderBy: string; mFirst: number; mOrder: string }) {
  const ids = members.map((m) => m.id);
  const q = (sql: string) => t.dataSource.query(sql, [ids]);
  const sessions: any[] = await q(`SELECT s.*, u.display_name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = ANY($1)`);
  const messages: any[] = await q(`SELECT m.* FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.user_id = ANY($1)`);
  const links: any[] = await q(`SELECT ss.session_id, k.* FROM session_skills ss JOIN skills k ON k.id = ss.skill_id JOIN sessions s ON s.id = ss.session_id WHERE s.user_id = ANY($1)`);
  const syncs: any[] = await q(`SELECT n.* FROM session_node_sync n JOIN sessions s ON s.id = n.session_id WHERE s.user_id = ANY($1)`);

  const deleted = v.filter?.deleted ?? 'ACTIVE';
  const column = v.orderBy === 'UPDATED_AT_DESC' ? 'updated_at' : 'created_at';
  const list = sessions
    .filter((s) => viewer.role === 'ADMIN' || s.user_id === viewer.id)
    .filter((s) => (deleted === 'ALL' ? true : deleted === 'DELETED' ? s.deleted_at !== null : s.deleted_at === null))
    .filter((s) => !v.filter?.userId || s.user_id === v.filter.userId)
    .filter((s) => v.filter?.isSyncing === undefined || s.is_syncing === v.filter.isSyncing)
    .map((s) => ({ ...s, t: s[column] }))
    .sort(byTimeThenId(v.orderBy !== 'CREATED_AT_ASC'))
    .slice(0, v.first);

  return list.map((s) => {
    const listed = messages
      .filter((m) => m.session_id === s.id && (s.deleted_at === null ? m.deleted_at === null : m.deleted_at?.getTime() === s.deleted_at.getTime()))
      .map((m) => ({ ...m, t: m.created_at }));
    const newest = [...listed].sort(byTimeThenId(true));
    const page = [...listed].sort(byTimeThenId(v.mOrder === 'CREATED_AT_DESC'));
    return {
      id: s.id,
      title: s.title,
      isSyncing: s.is_syncing,
      createdAt: iso(s.created_at),
      updatedAt: iso(s.updated_at),
      deletedAt: iso(s.deleted_at),
      owner: { id: s.user_id, displayName: s.display_name },
      skills: links
        .filter((k) => k.session_id === s.id && k.deleted_at === null)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
        .map((k) => ({ id: k.id, name: k.name })),
      messageCount: listed.length,
      lastMessage: newest[0] ? { id: newest[0].id } : null,
      messages: {
        totalCount: listed.length,
        pageInfo: { hasNextPage: listed.length > v.mFirst },
        nodes: page.slice(0, v.mFirst).map((m) => ({ id: m.id, role: m.role, content: m.content, createdAt: iso(m.created_at), deletedAt: iso(m.deleted_at) })),
      },
      nodeSync: syncs
        .filter((n) => n.session_id === s.id)
        .sort((a, b) => (a.node_id < b.node_id ? -1 : 1))
        .map((n) => ({ nodeId: n.node_id, status: n.status, updatedAt: iso(n.updated_at) })),
    };
  });
}

describe('dashboard resolution', () => {
  it('answers every relation of a session page as the raw rows say, and as the by-id path does', async () => {
    const viewers = () => [admin, ...members];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          viewer: fc.integer({ min: 0, max: 2 }),
          first: fc.integer({ min: 0, max: 8 }),
          owner: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
          deleted: fc.constantFrom('ACTIVE', 'DELETED', 'ALL'),
          isSyncing: fc.option(fc.boolean(), { nil: undefined }),
          orderBy: fc.constantFrom('CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC'),
          mFirst: fc.integer({ min: 0, max: 5 }),
          mOrder: fc.constantFrom('CREATED_AT_ASC', 'CREATED_AT_DESC'),
        }),
        async (c) => {
          const viewer = viewers()[c.viewer];
          // An admin's list is kept to this file's users: other files share the database.
          const owner = c.owner ?? (viewer.role === 'ADMIN' ? 0 : undefined);
          const filter = { deleted: c.deleted, isSyncing: c.isSyncing, userId: owner === undefined ? undefined : members[owner].id };
          const variables = { first: c.first, filter, orderBy: c.orderBy, mFirst: c.mFirst, mOrder: c.mOrder };
          const result = await t.gql(DASHBOARD, variables, { as: viewer });
          expect(result.errors).toBeUndefined();
          // The page and all its relations in one statement after authentication.
          expect(result.sql).toBe(2);
          expect(result.data.sessions.nodes).toEqual(await expected(viewer, variables));
          // The same sessions through `session(id:)`, which reads each relation through its loader.
          for (const node of result.data.sessions.nodes.filter((n: { deletedAt: string | null }) => !n.deletedAt)) {
            const one = await t.gql(BY_ID, { id: node.id, mFirst: c.mFirst, mOrder: c.mOrder }, { as: viewer });
            expect(one.errors).toBeUndefined();
            expect(one.data.session).toEqual(node);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
