import fc from 'fast-check';
import { print } from 'graphql';
import { CANONICAL } from '../../bench/documents';
import { DashboardDocument } from '../../examples/dashboard-client/gql/graphql';
import { useTestServer } from '../harness';
import { insertMessages, insertSessions } from './seed';

// The client team's Dashboard document (examples/dashboard-client) is the one measured.
const DASHBOARD = print(DashboardDocument);
// Pages five times the default maximum cost about five times the default cost limit (long texts
// included: a message's content counts 32 units).
const { t, f } = useTestServer({ HUB_MAX_PAGE_SIZE: '500', HUB_MAX_QUERY_COST: '150000' });
beforeAll(async () => {
  // 501 sessions of other users, so every page below is full and owners are not the viewer.
  const owners = await Promise.all([f.user(), f.user(), f.user()]);
  const ids: string[] = [];
  for (const owner of owners) ids.push(...(await insertSessions(t.dataSource, owner.id, 167)).map((r) => r.id));
  await insertMessages(t.dataSource, ids, 4);
  const skill = await f.skill();
  await t.dataSource.query(`INSERT INTO session_skills (session_id, skill_id) SELECT unnest($1::uuid[]), $2`, [ids, skill.id]);
  await t.dataSource.query(
    `INSERT INTO session_node_sync (session_id, node_id, status) SELECT unnest($1::uuid[]), 'node-a', 'SYNCED'`,
    [ids],
  );
});

describe('SQL budget', () => {
  // Authentication, and the page with its count, owners and every per-session relation the page's
  // sessions select (skills, counts, newest message, message pages, node sync).
  it.each([10, 100, 500])('serves the dashboard of %i sessions in two statements', async (first) => {
    const admin = await f.admin();
    const result = await t.gql(DASHBOARD, { first }, { as: admin });
    expect(result.errors).toBeUndefined();
    const { edges } = result.data.sessions;
    expect(edges).toHaveLength(first);
    expect(result.data.sessions.pageInfo.hasNextPage).toBe(true);
    for (const { node } of edges) {
      expect(node.owner.id).not.toBe(admin.id);
      expect(node.messages.nodes.length).toBe(Math.min(3, node.messageCount));
      if (node.messageCount > 0) expect(node.lastMessage.id).toBe(node.messages.nodes[0].id);
    }
    if (first === 10 && process.env.HUB_PRINT_STATEMENTS) console.log(`Dashboard statements (${result.sql}):\n${result.statements.join('\n---\n')}`);
    expect(result.sql).toBe(2);
  });

  it('reads a relation selected again (aliases, fragments) once: one sub-select per field and arguments', async () => {
    const admin = await f.admin();
    const selections = fc.array(
      fc.record({
        // Other arguments need their own response name: `m3:` (an alias of its own stays one).
        field: fc.constantFrom('messageCount', 'skills { id }', 'messages(first: 2) { nodes { id } }', 'm3: messages(first: 3) { nodes { id } }'),
        via: fc.constantFrom('plain', 'alias', 'fragment', 'inline'),
      }),
      { minLength: 1, maxLength: 30 },
    );
    await fc.assert(
      fc.asyncProperty(selections, async (picked) => {
        const fragments: string[] = [];
        const fields = picked.map(({ field, via }, i) => {
          if (via === 'alias' && !field.startsWith('m3:')) return `a${i}: ${field}`;
          if (via === 'inline') return `... on Session { ${field} }`;
          if (via === 'fragment') {
            fragments.push(`fragment F${i} on Session { ${field} }`);
            return `...F${i}`;
          }
          return field;
        });
        const result = await t.gql(`{ sessions(first: 5) { nodes { id ${fields.join(' ')} } } } ${fragments.join(' ')}`, {}, { as: admin });
        expect(result.errors).toBeUndefined();
        expect(result.sql).toBe(2);
        const page = result.statements[1];
        // Distinct relations: the count, the skills, and each distinct page size of messages.
        const distinct = new Set(picked.map(({ field }) => field)).size;
        expect(page.match(/ AS r\d+/g)?.length ?? 0).toBe(distinct);
      }),
      { numRuns: 40 },
    );
  });

  it.each([10, 100, 500])('serves the canonical dashboard of the bench at %i sessions in two statements', async (first) => {
    const admin = await f.admin();
    const result = await t.gql(CANONICAL, { first }, { as: admin });
    expect(result.errors).toBeUndefined();
    expect(result.data.sessions.nodes).toHaveLength(first);
    // Other test files share the database: newer sessions than this file's may head the list.
    for (const node of result.data.sessions.nodes) expect(node.messages.nodes.length).toBe(Math.min(3, node.messageCount));
    expect(result.sql).toBe(2);
  });
});
