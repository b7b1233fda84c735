/**
 * Global object identification (issue #16, item 2): `node(id)` and `nodes(ids)` over a pool of
 * ids of every type in every state (own, another member's, soft-deleted, absent). Generated id
 * lists of any mix answer exactly what each type's own query field answers, in order, and cost a
 * fixed number of statements whatever the mix and length.
 */
import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { codes, useTestServer } from '../harness';

const { t, f } = useTestServer();

type Typename = 'User' | 'Session' | 'Message' | 'Skill';
/** One id of the pool and what member and admin must get for it. */
interface PoolEntry {
  id: string;
  type: Typename;
  member: boolean;
  admin: boolean;
  label: string;
}

let member: User;
let admin: User;
const pool: PoolEntry[] = [];

beforeAll(async () => {
  member = await f.user();
  admin = await f.admin();
  const other = await f.user();
  const own = await f.session(member);
  const deleted = await f.session(member, { deletedAt: new Date() });
  const foreign = await f.session(other);
  const ownMessage = await f.message(own);
  const deletedMessage = await f.message(own, { deletedAt: new Date() });
  const inDeletedSession = await f.message(deleted);
  const foreignMessage = await f.message(foreign);
  const skill = await f.skill();
  const deletedSkill = await f.skill({ deletedAt: new Date() });
  const entry = (id: string, type: Typename, memberSees: boolean, adminSees: boolean, label: string) =>
    pool.push({ id, type, member: memberSees, admin: adminSees, label });
  entry(member.id, 'User', true, true, 'the member');
  entry(other.id, 'User', false, true, 'another member');
  entry(own.id, 'Session', true, true, 'own session');
  entry(deleted.id, 'Session', false, false, 'soft-deleted session');
  entry(foreign.id, 'Session', false, true, 'another member’s session');
  entry(ownMessage.id, 'Message', true, true, 'own message');
  entry(deletedMessage.id, 'Message', false, false, 'soft-deleted message');
  entry(inDeletedSession.id, 'Message', false, false, 'message of a soft-deleted session');
  entry(foreignMessage.id, 'Message', false, true, 'another member’s message');
  entry(skill.id, 'Skill', true, true, 'a skill');
  entry(deletedSkill.id, 'Skill', false, false, 'a deleted skill');
  entry('00000000-0000-4000-8000-000000000000', 'Skill', false, false, 'absent');
});

const NODES = 'query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Session { title } ... on Message { content } } }';
const NODE = 'query ($id: ID!) { node(id: $id) { __typename id ... on User { email } ... on Skill { name } } }';

const expected = (entries: PoolEntry[], who: 'member' | 'admin') =>
  entries.map((e) => (e[who] ? { __typename: e.type, id: e.id } : null));

describe('Query.nodes', () => {
  it.each(['member', 'admin'] as const)(
    'answers any mix of ids as each type’s own field would, in order, in a fixed number of statements (%s)',
    async (who) => {
      const as = who === 'member' ? member : admin;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 30 }), fc.boolean(), async (entries, upper) => {
          const ids = entries.map((e) => (upper ? e.id.toUpperCase() : e.id));
          const result = await t.gql(NODES, { ids }, { as });
          expect(result.errors).toBeUndefined();
          const got = result.data.nodes.map((n: any) => (n ? { __typename: n.__typename, id: n.id } : null));
          expect(got).toEqual(expected(entries, who));
          // Authentication, then one round of the four by-id loaders, whatever the mix and length.
          // A member's userById needs no statement: it sees only their own row, which
          // authentication already primed.
          expect(result.sql).toBe(who === 'admin' ? 5 : 4);
        }),
        { numRuns: Number(process.env.HUB_NODES_RUNS ?? 40) },
      );
    },
  );

  it('refuses more ids than a page holds, and malformed ids, as BAD_USER_INPUT', async () => {
    const tooMany = Array.from({ length: 101 }, () => pool[0].id);
    const many = await t.gql(NODES, { ids: tooMany }, { as: admin });
    expect(codes(many)).toEqual(['BAD_USER_INPUT']);
    expect(many.errors![0].extensions!.validation).toEqual([{ field: 'ids', message: expect.any(String) }]);
    const malformed = await t.gql(NODES, { ids: [pool[0].id, 'nope'] }, { as: admin });
    expect(codes(malformed)).toEqual(['BAD_USER_INPUT']);
    expect(malformed.errors![0].extensions!.validation).toEqual([{ field: 'ids[1]', message: 'must be a UUID' }]);
    expect((await t.gql(NODES, { ids: Array.from({ length: 100 }, () => pool[0].id) }, { as: admin })).errors).toBeUndefined();
  });
});

describe('Query.node', () => {
  it('finds every visible object by today’s raw UUID, with its type’s fields, and null otherwise', async () => {
    for (const who of ['member', 'admin'] as const) {
      for (const entry of pool) {
        const result = await t.gql(NODE, { id: entry.id }, { as: who === 'member' ? member : admin });
        expect(result.errors).toBeUndefined();
        if (!entry[who]) {
          expect([entry.label, result.data.node]).toEqual([entry.label, null]);
          continue;
        }
        expect(result.data.node).toMatchObject({ __typename: entry.type, id: entry.id });
        if (entry.type === 'User') expect(result.data.node.email).toMatch(/@/);
        if (entry.type === 'Skill') expect(result.data.node.name).toMatch(/skill-/);
      }
    }
  });

  it('rejects a malformed id as BAD_USER_INPUT', async () => {
    expect(codes(await t.gql(NODE, { id: '42' }, { as: member }))).toEqual(['BAD_USER_INPUT']);
  });
});
