import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { User } from '../../src/users/user.entity';
import { codes, GqlResult, useTestServer } from '../harness';
import { insertSessions } from './seed';

const { t, f } = useTestServer();

const SESSIONS = `query($first: Int, $after: String, $filter: SessionFilter, $orderBy: SessionOrder) {
  sessions(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id title deletedAt owner { id } } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

type Vars = { first?: number; after?: string | null; filter?: Record<string, unknown>; orderBy?: string };

async function ids(as: User, vars: Vars): Promise<string[]> {
  const result = await t.gql(SESSIONS, vars, { as });
  expect(result.errors).toBeUndefined();
  return result.data.sessions.nodes.map((n: { id: string }) => n.id);
}

/** Every page of a list, following endCursor. */
async function allPages(as: User, vars: Vars, between?: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 50; i++) {
    const result: GqlResult = await t.gql(SESSIONS, { ...vars, after }, { as });
    expect(result.errors).toBeUndefined();
    const { nodes, pageInfo } = result.data.sessions;
    expect(pageInfo.hasPreviousPage).toBe(after !== null);
    seen.push(...nodes.map((n: { id: string }) => n.id));
    if (!pageInfo.hasNextPage) return seen;
    after = pageInfo.endCursor;
    await between?.();
  }
  throw new Error('too many pages');
}

describe('Query.sessions', () => {
  it('lists only the member’s own live sessions, newest first, with their total', async () => {
    const member = await f.user();
    const other = await f.user();
    const mine = await insertSessions(t.dataSource, member.id, 3);
    await insertSessions(t.dataSource, other.id, 2);
    await insertSessions(t.dataSource, member.id, 1, { deletedAt: new Date() });
    const result = await t.gql(SESSIONS, {}, { as: member });
    expect(result.errors).toBeUndefined();
    expect(result.data.sessions.totalCount).toBe(3);
    expect(result.data.sessions.nodes.map((n: any) => n.id)).toEqual(mine.map((r) => r.id).reverse());
    expect(result.data.sessions.edges.every((e: any) => e.node.owner.id === member.id)).toBe(true);
  });

  it('gives an admin every user’s sessions and a member an empty list for another userId', async () => {
    const admin = await f.admin();
    const member = await f.user();
    const other = await f.user();
    const theirs = await insertSessions(t.dataSource, other.id, 2);
    expect(await ids(admin, { filter: { userId: other.id } })).toEqual(theirs.map((r) => r.id).reverse());
    const result = await t.gql(SESSIONS, { filter: { userId: other.id } }, { as: member });
    expect(result.data.sessions).toMatchObject({ totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, startCursor: null, endCursor: null } });
  });

  it('pages with no duplicates and no gaps, stable under inserts between pages', async () => {
    const admin = await f.admin();
    const owner = await f.user();
    const rows = await insertSessions(t.dataSource, owner.id, 25);
    const expected = rows.map((r) => r.id).reverse();
    let inserted = 0;
    const seen = await allPages(admin, { first: 10, filter: { userId: owner.id } }, async () => {
      // Newer sessions land before the cursor; they must not shift the pages after it.
      await insertSessions(t.dataSource, owner.id, 1, { base: new Date(Date.UTC(2027, 0, 1 + inserted++)) });
    });
    expect(seen).toEqual(expected);
  });

  it('breaks ties on equal timestamps by id, in every ordering', async () => {
    const owner = await f.user();
    const rows = await insertSessions(t.dataSource, owner.id, 7, { stepMs: 0 });
    const byId = rows.map((r) => r.id).sort();
    expect(await allPages(owner, { first: 3, orderBy: 'CREATED_AT_ASC' })).toEqual(byId);
    expect(await allPages(owner, { first: 3, orderBy: 'CREATED_AT_DESC' })).toEqual([...byId].reverse());
    expect(await allPages(owner, { first: 2, orderBy: 'UPDATED_AT_DESC' })).toEqual([...byId].reverse());
  });

  it('orders by createdAt ascending and by updatedAt descending', async () => {
    const owner = await f.user();
    const rows = await insertSessions(t.dataSource, owner.id, 4);
    const created = rows.map((r) => r.id);
    // The oldest session changed last.
    await t.dataSource.query(`UPDATE sessions SET updated_at = '2030-01-01Z' WHERE id = $1`, [created[0]]);
    expect(await allPages(owner, { first: 3, orderBy: 'CREATED_AT_ASC' })).toEqual(created);
    expect(await allPages(owner, { first: 3, orderBy: 'UPDATED_AT_DESC' })).toEqual([created[0], created[3], created[2], created[1]]);
  });

  it('returns an empty first page with hasNextPage for first: 0', async () => {
    const owner = await f.user();
    await insertSessions(t.dataSource, owner.id, 2);
    const result = await t.gql(SESSIONS, { first: 0 }, { as: owner });
    expect(result.data.sessions).toMatchObject({ totalCount: 2, nodes: [], pageInfo: { hasNextPage: true, endCursor: null } });
  });

  it('defaults to 20 per page', async () => {
    const owner = await f.user();
    await insertSessions(t.dataSource, owner.id, 21);
    expect(await ids(owner, {})).toHaveLength(20);
  });
});

describe('SessionFilter', () => {
  async function fixture() {
    const admin = await f.admin();
    const owner = await f.user();
    const [plain, syncing, skilled, deleted] = await Promise.all([
      f.session(owner),
      f.session(owner),
      f.session(owner),
      f.session(owner, { deletedAt: new Date() }),
    ]);
    const skill = await f.skill();
    await f.link(skilled, skill);
    await f.nodeSync(syncing, 'node-x', SyncStatus.SYNCING);
    await f.nodeSync(deleted, 'node-x', SyncStatus.SYNCED);
    return { admin, owner, plain, syncing, skilled, deleted, skill };
  }
  const sorted = (list: string[]) => [...list].sort();

  it('narrows by isSyncing, skillId and nodeId, combined with the deleted filter', async () => {
    const x = await fixture();
    const ask = async (filter: Record<string, unknown>) => sorted(await ids(x.admin, { filter: { userId: x.owner.id, ...filter } }));
    expect(await ask({})).toEqual(sorted([x.plain.id, x.syncing.id, x.skilled.id]));
    expect(await ask({ isSyncing: true })).toEqual([x.syncing.id]);
    expect(await ask({ isSyncing: false })).toEqual(sorted([x.plain.id, x.skilled.id]));
    expect(await ask({ skillId: x.skill.id })).toEqual([x.skilled.id]);
    expect(await ask({ nodeId: 'node-x' })).toEqual([x.syncing.id]);
    expect(await ask({ nodeId: 'node-x', deleted: 'ALL' })).toEqual(sorted([x.syncing.id, x.deleted.id]));
    expect(await ask({ deleted: 'DELETED' })).toEqual([x.deleted.id]);
    expect(await ask({ deleted: 'ALL' })).toEqual(sorted([x.plain.id, x.syncing.id, x.skilled.id, x.deleted.id]));
    expect(await ask({ nodeId: 'node-y' })).toEqual([]);
  });

  it('counts the whole filtered list in totalCount', async () => {
    const x = await fixture();
    const result = await t.gql(SESSIONS, { first: 1, filter: { userId: x.owner.id, deleted: 'ALL' } }, { as: x.admin });
    expect(result.data.sessions.totalCount).toBe(4);
    expect(result.data.sessions.nodes).toHaveLength(1);
  });

  it('lists a member’s own soft-deleted sessions but never another user’s', async () => {
    const x = await fixture();
    expect(await ids(x.owner, { filter: { deleted: 'DELETED' } })).toEqual([x.deleted.id]);
    const stranger = await f.user();
    expect(await ids(stranger, { filter: { userId: x.owner.id, deleted: 'ALL' } })).toEqual([]);
  });

  it('rejects malformed filter ids and node ids as BAD_USER_INPUT', async () => {
    const user = await f.user();
    const result = await t.gql(SESSIONS, { filter: { userId: 'nope', skillId: '12', nodeId: 'x'.repeat(129) } }, { as: user });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0].extensions!.validation).toEqual([
      { field: 'filter.userId', message: 'must be a UUID' },
      { field: 'filter.skillId', message: 'must be a UUID' },
      { field: 'filter.nodeId', message: 'must be 1 to 128 characters' },
    ]);
  });
});

describe('cursors and page sizes', () => {
  it('rejects a cursor from another ordering, filter or list, and garbage, as BAD_USER_INPUT', async () => {
    const owner = await f.user();
    await insertSessions(t.dataSource, owner.id, 3);
    const first = await t.gql(SESSIONS, { first: 1 }, { as: owner });
    const cursor = first.data.sessions.pageInfo.endCursor;
    expect((await t.gql(SESSIONS, { first: 1, after: cursor }, { as: owner })).errors).toBeUndefined();
    await f.skill();
    const skills = await t.gql('{ skills(first: 1) { pageInfo { endCursor } } }', {}, { as: owner });
    const skillCursor = skills.data.skills.pageInfo.endCursor;
    const tampered = Buffer.from(JSON.stringify({ l: 'sessions:CREATED_AT_DESC:x', k: ['not a date', 'x'] })).toString('base64url');
    for (const vars of [
      { after: cursor, orderBy: 'CREATED_AT_ASC' },
      { after: cursor, orderBy: 'UPDATED_AT_DESC' },
      { after: cursor, filter: { deleted: 'ALL' } },
      { after: skillCursor },
      { after: 'garbage!' },
      { after: 'eyJ9' },
      { after: tampered },
    ]) {
      const result = await t.gql(SESSIONS, { first: 1, ...vars }, { as: owner });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0].extensions!.validation).toEqual([{ field: 'after', message: expect.any(String) }]);
    }
  });

  it('rejects first above the maximum or negative, and accepts the maximum', async () => {
    const owner = await f.user();
    for (const first of [101, -1]) {
      const result = await t.gql(SESSIONS, { first }, { as: owner });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0].extensions!.validation).toEqual([{ field: 'first', message: expect.any(String) }]);
    }
    expect((await t.gql(SESSIONS, { first: 100 }, { as: owner })).errors).toBeUndefined();
  });
});

describe('Query.session', () => {
  it('returns a visible live session and null for soft-deleted, foreign or absent ones', async () => {
    const member = await f.user();
    const admin = await f.admin();
    const mine = await f.session(member);
    const deleted = await f.session(member, { deletedAt: new Date() });
    const foreign = await f.session(await f.user());
    const q = 'query($id: ID!) { session(id: $id) { id owner { id } } }';
    expect((await t.gql(q, { id: mine.id }, { as: member })).data.session).toEqual({ id: mine.id, owner: { id: member.id } });
    expect((await t.gql(q, { id: deleted.id }, { as: member })).data.session).toBeNull();
    expect((await t.gql(q, { id: foreign.id }, { as: member })).data.session).toBeNull();
    expect((await t.gql(q, { id: '00000000-0000-4000-8000-000000000000' }, { as: member })).data.session).toBeNull();
    expect((await t.gql(q, { id: foreign.id }, { as: admin })).data.session.id).toBe(foreign.id);
  });

  it('rejects a malformed id as BAD_USER_INPUT', async () => {
    const member = await f.user();
    expect(codes(await t.gql('{ session(id: "42") { id } }', {}, { as: member }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('Query.sessions selections', () => {
  it('answers the total and the owners whether selected together, alone or through fragments', async () => {
    const admin = await f.admin();
    const owner = await f.user();
    await insertSessions(t.dataSource, owner.id, 1);
    const vars = { filter: { userId: owner.id } };
    const queries = [
      'query($filter: SessionFilter) { sessions(filter: $filter) { totalCount } }',
      'query($filter: SessionFilter) { sessions(filter: $filter) { nodes { owner { id } } } }',
      'query($filter: SessionFilter) { sessions(filter: $filter) { ...C } } fragment C on SessionConnection { totalCount edges { node { ... on Session { owner { id } } } } }',
      'query($filter: SessionFilter) { sessions(filter: $filter) { pageInfo { hasNextPage } } }',
    ];
    for (const q of queries) {
      const result = await t.gql(q, vars, { as: admin });
      expect(result.errors).toBeUndefined();
      const { totalCount, nodes, edges } = result.data.sessions;
      if (totalCount !== undefined) expect(totalCount).toBe(1);
      for (const node of nodes ?? edges?.map((e: any) => e.node) ?? []) expect(node.owner.id).toBe(owner.id);
      // Authentication plus one statement: the total and the owners ride with the page.
      expect(result.sql).toBe(2);
    }
    const member = await t.gql(queries[2], {}, { as: owner });
    expect(member.data.sessions).toEqual({ totalCount: 1, edges: [{ node: { owner: { id: owner.id } } }] });
    expect(member.sql).toBe(2);
  });

  it('shows each session’s node sync rows by node id and its isSyncing', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    await f.nodeSync(session, 'node-b', SyncStatus.FAILED, 'disk full');
    await f.nodeSync(session, 'node-a', SyncStatus.PENDING);
    const q = 'query($id: ID!) { session(id: $id) { isSyncing nodeSync { nodeId status error updatedAt } } }';
    const result = await t.gql(q, { id: session.id }, { as: owner });
    expect(result.data.session.isSyncing).toBe(true);
    expect(result.data.session.nodeSync).toEqual([
      { nodeId: 'node-a', status: 'PENDING', error: null, updatedAt: expect.stringMatching(/Z$/) },
      { nodeId: 'node-b', status: 'FAILED', error: 'disk full', updatedAt: expect.stringMatching(/Z$/) },
    ]);
  });
});

describe('forged cursors', () => {
  it.each(['-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-01-01'])(
    'rejects a cursor whose time PostgreSQL could not hold or we never issued (%s) as BAD_USER_INPUT',
    async (time) => {
      const user = await f.user();
      const after = Buffer.from(JSON.stringify({ l: 'sessions:CREATED_AT_DESC', k: [time, '00000000-0000-4000-8000-000000000000'] })).toString('base64url');
      const result = await t.gql('query ($after: String) { sessions(after: $after) { totalCount } }', { after }, { as: user });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    },
  );
});
