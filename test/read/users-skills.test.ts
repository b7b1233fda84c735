import { codes, useTestServer } from '../harness';
import { insertSessions } from './seed';

const { t, f } = useTestServer();

describe('users', () => {
  const USERS = `query($first: Int, $after: String) { users(first: $first, after: $after) {
    totalCount nodes { id createdAt } pageInfo { hasNextPage endCursor } } }`;

  it('forbids the user list to a member', async () => {
    const member = await f.user();
    expect(codes(await t.gql(USERS, {}, { as: member }))).toEqual(['FORBIDDEN']);
  });

  // Every user of the shared test database, two at a time: hundreds of requests late in a busy run.
  it('pages an admin through every user oldest first without duplicates', async () => {
    const admin = await f.admin();
    const fresh = [await f.user(), await f.user(), await f.user()];
    const seen: { id: string; createdAt: string }[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const result: any = await t.gql(USERS, { first: 2, after }, { as: admin });
      expect(result.errors).toBeUndefined();
      total = result.data.users.totalCount;
      seen.push(...result.data.users.nodes);
      if (!result.data.users.pageInfo.hasNextPage) break;
      after = result.data.users.pageInfo.endCursor;
    }
    const ids = seen.map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    const key = (u: { id: string; createdAt: string }) => `${u.createdAt}|${u.id}`;
    expect(seen.map(key)).toEqual([...seen.map(key)].sort());
    expect(ids).toEqual(expect.arrayContaining([admin.id, ...fresh.map((u) => u.id)]));
    expect(total).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('shows a member only their own record', async () => {
    const member = await f.user();
    const other = await f.user();
    const q = 'query($id: ID!) { user(id: $id) { id } }';
    expect((await t.gql(q, { id: member.id }, { as: member })).data.user).toEqual({ id: member.id });
    expect((await t.gql(q, { id: other.id }, { as: member })).data.user).toBeNull();
    expect(codes(await t.gql(q, { id: 'nope' }, { as: member }))).toEqual(['BAD_USER_INPUT']);
  });

  it('counts and lists a user’s live sessions, filtered and combined with the user', async () => {
    const admin = await f.admin();
    const owner = await f.user();
    const live = await insertSessions(t.dataSource, owner.id, 3);
    await insertSessions(t.dataSource, owner.id, 2, { deletedAt: new Date() });
    const q = `query($id: ID!, $filter: SessionFilter) { user(id: $id) { sessionCount
      sessions(first: 2, filter: $filter) { totalCount nodes { id } pageInfo { hasNextPage } } } }`;
    const plain = await t.gql(q, { id: owner.id }, { as: admin });
    expect(plain.data.user.sessionCount).toBe(3);
    expect(plain.data.user.sessions).toEqual({
      totalCount: 3,
      nodes: live.slice(1).reverse().map((r) => ({ id: r.id })),
      pageInfo: { hasNextPage: true },
    });
    expect((await t.gql(q, { id: owner.id, filter: { deleted: 'ALL' } }, { as: admin })).data.user.sessions.totalCount).toBe(5);
    const elsewhere = await t.gql(q, { id: owner.id, filter: { userId: admin.id } }, { as: admin });
    expect(elsewhere.data.user.sessions).toMatchObject({ totalCount: 0, nodes: [] });
    const own = await t.gql('{ me { sessionCount sessions { totalCount } } }', {}, { as: owner });
    expect(own.data.me).toEqual({ sessionCount: 3, sessions: { totalCount: 3 } });
  });
});

describe('skills', () => {
  it('lists only live skills by name and hides a deleted one everywhere', async () => {
    const member = await f.user();
    const tag = Math.random().toString(36).slice(2, 8);
    const b = await f.skill({ name: `zz-${tag}-b` });
    const a = await f.skill({ name: `zz-${tag}-a` });
    const gone = await f.skill({ name: `zz-${tag}-c`, deletedAt: new Date() });
    const session = await f.session(member);
    // Deleting a skill removes its links (a database invariant), so only live skills are linked.
    for (const skill of [b, a]) await f.link(session, skill);

    const names: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: any = await t.gql('query($after: String) { skills(first: 100, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } } }', { after }, { as: member });
      expect(result.errors).toBeUndefined();
      names.push(...result.data.skills.nodes.map((n: { name: string }) => n.name));
      if (!result.data.skills.pageInfo.hasNextPage) break;
      after = result.data.skills.pageInfo.endCursor;
    }
    expect(names.filter((n) => n.includes(tag))).toEqual([a.name, b.name]);
    const q = 'query($id: ID!, $s: ID!) { skill(id: $id) { id } session(id: $s) { skills { name } } }';
    const result = await t.gql(q, { id: gone.id, s: session.id }, { as: member });
    expect(result.data).toEqual({ skill: null, session: { skills: [{ name: a.name }, { name: b.name }] } });
  });

  it('counts and lists only the live sessions the viewer may see', async () => {
    const admin = await f.admin();
    const member = await f.user();
    const other = await f.user();
    const skill = await f.skill();
    const mine = await f.session(member);
    const theirs = await f.session(other);
    const deleted = await f.session(member, { deletedAt: new Date() });
    for (const s of [mine, theirs, deleted]) await f.link(s, skill);
    const q = 'query($id: ID!) { skill(id: $id) { sessionCount sessions { totalCount nodes { id } } } }';
    expect((await t.gql(q, { id: skill.id }, { as: member })).data.skill).toEqual({
      sessionCount: 1,
      sessions: { totalCount: 1, nodes: [{ id: mine.id }] },
    });
    const all = (await t.gql(q, { id: skill.id }, { as: admin })).data.skill;
    expect(all.sessionCount).toBe(2);
    expect(all.sessions.nodes.map((n: any) => n.id).sort()).toEqual([mine.id, theirs.id].sort());
  });

  it('reports the catalogue total with the page', async () => {
    const member = await f.user();
    await f.skill();
    const result = await t.gql('{ skills(first: 1) { totalCount nodes { id } } }', {}, { as: member });
    expect(result.data.skills.totalCount).toBeGreaterThanOrEqual(1);
    expect(result.sql).toBe(2);
  });
});
