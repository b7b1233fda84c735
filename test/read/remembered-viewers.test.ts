/**
 * HUB_REMEMBER_VIEWERS (src/users/viewer-confirmation.ts): a token's user looked up once is
 * confirmed inside the request's first read afterwards, not by a statement of its own. What must
 * not change: the same answers, the viewer's scope in the SQL, and a deleted user's token refused
 * from the next request on — under a race with the deletion too, for every shape of request
 * (a list, an empty read, no read at all, a mutation).
 */
import fc from 'fast-check';
import { CANONICAL } from '../../bench/documents';
import { codes, GqlResult, useTestServer } from '../harness';
import { Role, User } from '../../src/users/user.entity';
import { insertMessages, insertSessions } from './seed';

const { t, f } = useTestServer({ HUB_REMEMBER_VIEWERS: 'true', HUB_MAX_PAGE_SIZE: '500', HUB_MAX_QUERY_COST: '150000' });

const MISSING = '00000000-0000-4000-8000-000000000000';

/** Requests of every shape the confirmation treats apart. */
const SHAPES: Record<string, { query: string; variables?: Record<string, unknown>; read: (r: GqlResult) => unknown }> = {
  list: { query: CANONICAL, variables: { first: 5 }, read: (r) => r.data?.sessions.nodes },
  me: { query: '{ me { id email role } }', read: (r) => r.data?.me },
  empty: { query: `{ session(id: "${MISSING}") { id } }`, read: (r) => r.data?.session },
  nothing: { query: '{ __typename }', read: (r) => r.data?.__typename },
  write: { query: 'mutation { createSession(input: { title: "raced" }) { id } }', read: (r) => r.data?.createSession?.id },
};

/**
 * The canonical dashboard as an admin, kept to this file's sessions: other suites write to the
 * shared database between a cold and a warm request, and the admin's unfiltered list would see it.
 */
let ownedCanonical = CANONICAL;

beforeAll(async () => {
  const owner = await f.user();
  ownedCanonical = CANONICAL.replace('sessions(first: $first)', `sessions(first: $first, filter: { userId: "${owner.id}" })`);
  expect(ownedCanonical).not.toBe(CANONICAL);
  const ids = (await insertSessions(t.dataSource, owner.id, 12)).map((r) => r.id);
  await insertMessages(t.dataSource, ids, 4);
});

describe('remembered viewers', () => {
  it.each([10, 100, 500])('answer the canonical dashboard of %i sessions as a first request does, in one statement', async (first) => {
    const admin = await f.admin();
    const cold = await t.gql(ownedCanonical, { first }, { as: admin });
    const warm = await t.gql(ownedCanonical, { first }, { as: admin });
    expect(cold.data?.sessions.nodes).toHaveLength(Math.min(first, 12));
    expect(cold.errors).toBeUndefined();
    expect(warm.errors).toBeUndefined();
    expect(warm.data).toEqual(cold.data);
    // Cold: authentication, then the page; warm: the page, which also confirms the viewer.
    expect(cold.sql).toBe(2);
    expect(warm.sql).toBe(1);
    expect(warm.statements[0]).toMatch(/FROM users hub_v WHERE hub_v\.id = \$\d+::uuid AND hub_v\.role = \$\d+/);
  });

  it('keep a member in their scope: their own sessions and owner, as a first request sees them', async () => {
    const member = await f.user();
    const other = await f.user();
    await f.session(other);
    const mine = await Promise.all([f.session(member), f.session(member)]);
    const query = '{ sessions(first: 50) { totalCount nodes { id owner { id displayName } } } }';
    const cold = await t.gql(query, {}, { as: member });
    const warm = await t.gql(query, {}, { as: member });
    expect(warm.errors).toBeUndefined();
    expect(warm.data).toEqual(cold.data);
    expect(new Set(warm.data.sessions.nodes.map((n: { id: string }) => n.id))).toEqual(new Set(mine.map((s) => s.id)));
    for (const node of warm.data.sessions.nodes) expect(node.owner).toEqual({ id: member.id, displayName: member.displayName });
    expect(warm.sql).toBe(1);
  });

  it.each(Object.keys(SHAPES))('count one statement for the confirmation of a %s request that reads nothing else', async (shape) => {
    const admin = await f.admin();
    const { query, variables } = SHAPES[shape];
    await t.gql('{ me { id } }', {}, { as: admin });
    const warm = await t.gql(query, variables, { as: admin });
    expect(warm.errors).toBeUndefined();
    // An empty first read, or none, confirms the viewer with a lookup of its own.
    if (shape === 'nothing') expect(warm.sql).toBe(1);
    if (shape === 'empty') expect(warm.sql).toBe(2);
    if (shape === 'me' || shape === 'list') expect(warm.sql).toBe(1);
  });

  it('refuse a deleted user’s token at the next request, whatever the request, racing the deletion', async () => {
    const deleter = await f.admin();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(Role.ADMIN, Role.MEMBER),
        // Reads race the deletion (a write racing it is the write path's business, as without remembering).
        fc.array(fc.constantFrom('list', 'me', 'empty', 'nothing'), { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom(...Object.keys(SHAPES)), { minLength: 1, maxLength: 4 }),
        async (role, during, after) => {
          const victim = await f.user({ role });
          await f.session(victim);
          // Remembered by this process.
          expect((await t.gql('{ me { id } }', {}, { as: victim })).data?.me.id).toBe(victim.id);
          const run = (shape: string) => t.gql(SHAPES[shape].query, SHAPES[shape].variables, { as: victim });
          // Requests racing the deletion: either answered as before it, or refused; never a 500.
          const racing = during.map(run);
          const deleted = await t.gql('mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', { ids: [victim.id] }, { as: deleter });
          expect(deleted.data?.deleteUsers.deletedCount).toBe(1);
          for (const result of await Promise.all(racing)) {
            expect([200, 401]).toContain(result.status);
            if (result.status === 401) expect(codes(result)).toEqual(['UNAUTHENTICATED']);
          }
          // Every request sent after the deletion returned: refused, with no data.
          for (const result of await Promise.all(after.map(run))) {
            expect(result.status).toBe(401);
            expect(codes(result)).toEqual(['UNAUTHENTICATED']);
            expect(result.data ?? null).toBeNull();
          }
          // No write of the deleted user's survived them.
          const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [victim.id]);
          expect(n).toBe(0);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('drop an answer computed for a role the user no longer has, and take the new role at the next request', async () => {
    const user: User = await f.admin();
    const other = await f.user();
    const theirs = await f.session(other);
    const query = `{ session(id: "${theirs.id}") { id } sessions(first: 500) { nodes { id } } }`;
    const asAdmin = await t.gql(query, {}, { as: user });
    expect(asAdmin.data.session).toEqual({ id: theirs.id });
    await t.dataSource.query(`UPDATE users SET role = 'MEMBER' WHERE id = $1`, [user.id]);
    const changed = await t.gql(query, {}, { as: user });
    expect(changed.status).toBe(401);
    expect(codes(changed)).toEqual(['UNAUTHENTICATED']);
    expect(changed.data ?? null).toBeNull();
    const asMember = await t.gql(query, {}, { as: user });
    expect(asMember.errors).toBeUndefined();
    expect(asMember.data).toEqual({ session: null, sessions: { nodes: [] } });
  });
});
