/**
 * A list's skills read only what the selection asks for (src/skills/skill.columns.ts): the
 * columns its fields read, timestamps only when asked. Whatever the selection (fields, aliases,
 * fragments, through a page of sessions or one session), the answer is that of the selection of
 * every field, cut to the fields asked for, in the same statements; a skill read through such a
 * list is whole when read again by id in the same request; and a write's answer still describes
 * the write, whatever it selects of the skills.
 */
import fc from 'fast-check';
import { useTestServer } from '../harness';

// Every generated selection is a new document: the per-viewer budget of new documents is not what this tests.
const { t, f } = useTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' });

const FIELDS = ['id', 'name', 'description', 'createdAt', '__typename', 'sessionCount'] as const;
const ALL = FIELDS.join(' ');

let admin: Awaited<ReturnType<typeof f.admin>>;
let owner: Awaited<ReturnType<typeof f.user>>;
/** This file's sessions only: other suites write to the shared database between two reads. */
let mine = '';
const skillIds: string[] = [];
beforeAll(async () => {
  admin = await f.admin();
  owner = await f.user();
  mine = `userId: "${owner.id}"`;
  for (let i = 0; i < 4; i += 1) {
    const skill = await f.skill({ description: i % 2 ? null : `does ${i} "things" \\ well`, createdAt: new Date(Date.UTC(2026, 10, 1, 8, 0, i, [0, 100, 120, 123][i])) });
    skillIds.push(skill.id);
  }
  for (let i = 0; i < 4; i += 1) {
    const session = await f.session(owner, { title: `skill selection ${i}` });
    const skills = await t.dataSource.query(`SELECT id FROM skills WHERE id = ANY($1::uuid[])`, [skillIds.slice(0, i)]);
    for (const { id } of skills) await t.dataSource.query(`INSERT INTO session_skills (session_id, skill_id) VALUES ($1, $2)`, [session.id, id]);
  }
});

/** `node` cut to the response names of `fields`. */
const cut = (node: Record<string, unknown>, fields: readonly string[]) => Object.fromEntries(fields.map((name) => [name, node[name]]));

describe('session skills read per selection', () => {
  it('answer as the skills of every field do, cut to the selection, in the same statements', async () => {
    const selections = fc.record({
      fields: fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: FIELDS.length }),
      via: fc.constantFrom('page', 'fragment', 'alias', 'session'),
    });
    await fc.assert(
      fc.asyncProperty(selections, async ({ fields, via }) => {
        const skills = (selected: string) => (via === 'fragment' ? 'skills { ...K }' : via === 'alias' ? `tools: skills { ${selected} }` : `skills { ${selected} }`);
        const fragment = (selected: string) => (via === 'fragment' ? ` fragment K on Skill { ${selected} }` : '');
        const doc = (selected: string) =>
          via === 'session'
            ? `{ sessions(first: 20, filter: { ${mine} }) { nodes { id } } }`
            : `{ sessions(first: 20, filter: { ${mine} }) { nodes { id title ${skills(selected)} } } }${fragment(selected)}`;
        const full = await t.gql(doc(ALL), {}, { as: admin });
        const some = await t.gql(doc(fields.join(' ')), {}, { as: admin });
        expect(full.errors).toBeUndefined();
        expect(some.errors).toBeUndefined();
        // `sessionCount` is a statement of its own (when there is a skill to count for), whatever else is selected.
        const statements = (sql: number, skills = 1) => sql - (fields.includes('sessionCount') || !skills ? 0 : 1);
        expect(some.sql).toBe(via === 'session' ? full.sql : statements(full.sql));
        const key = via === 'alias' ? 'tools' : 'skills';
        if (via === 'session') {
          // One session by id: its skills through their own relations statement.
          for (const { id } of full.data.sessions.nodes) {
            const one = (selected: string) => t.gql(`{ session(id: "${id}") { skills { ${selected} } } }`, {}, { as: admin });
            const [whole, part] = [await one(ALL), await one(fields.join(' '))];
            expect(part.sql).toBe(statements(whole.sql, whole.data.session.skills.length));
            expect(part.data.session.skills).toEqual(whole.data.session.skills.map((k: any) => cut(k, fields)));
          }
          return;
        }
        some.data.sessions.nodes.forEach((session: any, i: number) => {
          expect(session[key]).toEqual(full.data.sessions.nodes[i][key].map((k: any) => cut(k, fields)));
        });
      }),
      { numRuns: 40 },
    );
  }, 180_000);

  it('reads the stored texts and timestamps, and never hands a cut list to a field that reads more of it', async () => {
    // The page reads skill ids only; the same sessions' skills, resolved after it through
    // `Skill.sessions`, ask for every column.
    const doc = `{ sessions(first: 4, filter: { ${mine} }) { nodes { id skills { id sessions(first: 3) { nodes { id skills { id name description createdAt } } } } } } }`;
    const both = await t.gql(doc, {}, { as: admin });
    expect(both.errors).toBeUndefined();
    const stored: { id: string; name: string; description: string | null; created: string }[] = await t.dataSource.query(
      `SELECT id, name, description, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created FROM skills WHERE id = ANY($1::uuid[])`,
      [skillIds],
    );
    const byId = new Map(stored.map((row) => [row.id, row]));
    const inner = both.data.sessions.nodes.flatMap((s: any) => s.skills.flatMap((k: any) => k.sessions.nodes.flatMap((n: any) => n.skills)));
    expect(inner.length).toBeGreaterThan(0);
    for (const skill of inner) {
      const row = byId.get(skill.id)!;
      expect(skill).toEqual({ id: skill.id, name: row.name, description: row.description, createdAt: row.created });
    }
    const listed = await t.gql(`{ sessions(first: 4, filter: { ${mine} }) { nodes { skills { id createdAt description } } } }`, {}, { as: admin });
    for (const skill of listed.data.sessions.nodes.flatMap((s: any) => s.skills)) {
      expect(skill).toEqual({ id: skill.id, createdAt: byId.get(skill.id)!.created, description: byId.get(skill.id)!.description });
    }
  });

  it('answers a write with the skills it wrote, whatever the answer selects of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1 }), fc.subarray(skillIds, { minLength: 1 }), async (fields, attach) => {
        const session = await f.session(owner, { title: 'skill selection write' });
        const written = await t.gql(
          `mutation($s: ID!, $k: [ID!]!) { attachSkills(sessionId: $s, skillIds: $k) { id skills { ${fields.join(' ')} } } }`,
          { s: session.id, k: attach },
          { as: admin },
        );
        expect(written.errors).toBeUndefined();
        const read = await t.gql(`{ session(id: "${session.id}") { skills { ${ALL} } } }`, {}, { as: admin });
        expect(written.data.attachSkills.skills).toEqual(read.data.session.skills.map((k: any) => cut(k, fields)));
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
