/**
 * A page of sessions reads only what the selection asks for of each session and of its owner
 * (src/sessions/session.columns.ts, src/users/user.columns.ts). Whatever the selection (fields,
 * owner fields, aliases, fragments, edges, pageInfo, cursors; an admin or a member), the answer
 * is that of the selection of every field, cut to the fields asked for, in the same statements;
 * cursors of a cut page page on as those of a whole one; and a session or owner read through
 * such a page is whole when read again by id in the same request.
 */
import fc from 'fast-check';
import { useTestServer } from '../harness';

// Every generated selection is a new document: the per-viewer budget of new documents is not what this tests.
const { t, f } = useTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' });

const OWNER_FIELDS = ['id', 'email', 'displayName', 'role', 'createdAt', '__typename'] as const;
const FIELDS = ['id', 'title', 'isSyncing', 'createdAt', 'updatedAt', 'deletedAt', 'version', '__typename', 'messageCount', 'skills { id }', 'owner'] as const;

let admin: Awaited<ReturnType<typeof f.admin>>;
let owners: Awaited<ReturnType<typeof f.user>>[] = [];
/** This file's sessions only: other suites write to the shared database between two reads. */
let mine = '';
beforeAll(async () => {
  admin = await f.admin();
  owners = [await f.user(), await f.user()];
  mine = `userId: "${owners[0].id}"`;
  for (let i = 0; i < 5; i += 1) {
    const session = await f.session(owners[0], { title: `session selection ${i}`, createdAt: new Date(Date.UTC(2026, 10, 1, 8, 0, i, [0, 100, 120, 123, 5][i])) });
    await f.message(session);
  }
});

/** `node` cut to the response names of `fields` (each a field name, with a sub-selection or not). */
const cut = (node: Record<string, unknown>, fields: readonly string[]) =>
  Object.fromEntries(fields.map((field) => field.split(' ')[0]).map((name) => [name, node[name]]));

describe('session pages read per selection', () => {
  it('answer as the page of every field does, cut to the selection, in the same statements', async () => {
    const selections = fc.record({
      fields: fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: FIELDS.length }),
      ownerFields: fc.uniqueArray(fc.constantFrom(...OWNER_FIELDS), { minLength: 1, maxLength: OWNER_FIELDS.length }),
      via: fc.constantFrom('nodes', 'edges', 'fragment', 'alias'),
      pageInfo: fc.boolean(),
      viewer: fc.constantFrom('admin', 'member'),
      first: fc.integer({ min: 1, max: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(selections, async ({ fields, ownerFields, via, pageInfo, viewer, first }) => {
        const as = viewer === 'admin' ? admin : owners[0];
        const node = (selected: readonly string[], owner: readonly string[]) =>
          selected.map((field) => (field === 'owner' ? `${via === 'alias' ? 'boss: ' : ''}owner { ${owner.join(' ')} }` : field)).join(' ');
        const inner = (selected: string) => (via === 'edges' ? `edges { cursor node { ${selected} } }` : via === 'fragment' ? 'nodes { ...S }' : `nodes { ${selected} }`);
        const doc = (selected: readonly string[], owner: readonly string[]) =>
          `{ sessions(first: ${first}, filter: { ${mine} }) { ${inner(node(selected, owner))} ${pageInfo ? 'pageInfo { hasNextPage endCursor }' : ''} } }` +
          (via === 'fragment' ? ` fragment S on Session { ${node(selected, owner)} }` : '');
        const full = await t.gql(doc(FIELDS, OWNER_FIELDS), {}, { as });
        const some = await t.gql(doc(fields, ownerFields), {}, { as });
        expect(full.errors).toBeUndefined();
        expect(some.errors).toBeUndefined();
        expect(some.sql).toBe(full.sql);
        const names = fields.map((field) => (field === 'owner' && via === 'alias' ? 'boss' : field));
        const shape = (session: any) => ({ ...session, ...(session.owner ? { owner: cut(session.owner, ownerFields) } : {}), ...(session.boss ? { boss: cut(session.boss, ownerFields) } : {}) });
        const listed = (data: any) => (via === 'edges' ? data.sessions.edges.map((e: any) => e.node) : data.sessions.nodes);
        expect(listed(some.data)).toEqual(listed(full.data).map((session: any) => cut(shape(session), names)));
        if (via === 'edges') expect(some.data.sessions.edges.map((e: any) => e.cursor)).toEqual(full.data.sessions.edges.map((e: any) => e.cursor));
        if (pageInfo) {
          expect(some.data.sessions.pageInfo).toEqual(full.data.sessions.pageInfo);
          // The cut page's cursor pages on as the whole page's does.
          const after = some.data.sessions.pageInfo.endCursor;
          const next = (selected: string) => t.gql(`{ sessions(first: 5, after: ${JSON.stringify(after)}, filter: { ${mine} }) { nodes { ${selected} } } }`, {}, { as });
          expect((await next('id')).data.sessions.nodes).toEqual((await next(FIELDS.filter((x) => x !== 'owner').join(' '))).data.sessions.nodes.map((s: any) => ({ id: s.id })));
        }
      }),
      { numRuns: 60 },
    );
  }, 240_000);

  it('never hands a session or an owner cut to a selection to a field that reads more of it', async () => {
    // The page reads ids only; its messages' sessions, resolved after it, ask for every column.
    const doc = `{ sessions(first: 5, filter: { ${mine} }) { nodes { id owner { id } messages(first: 1) { nodes { session {
      id title isSyncing version createdAt updatedAt deletedAt owner { id email displayName role createdAt } } } } } } }`;
    const both = await t.gql(doc, {}, { as: admin });
    expect(both.errors).toBeUndefined();
    const sessions: any[] = both.data.sessions.nodes;
    expect(sessions.length).toBe(5);
    const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    const stored = await t.dataSource.query(
      `SELECT s.id, s.title, s.is_syncing AS "isSyncing", s.version, ${ts('s.created_at')} AS "createdAt", ${ts('s.updated_at')} AS "updatedAt",
         ${ts('s.deleted_at')} AS "deletedAt", json_build_object('id', u.id, 'email', u.email, 'displayName', u.display_name, 'role', u.role,
         'createdAt', ${ts('u.created_at')}) AS owner
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ANY($1::uuid[])`,
      [sessions.map((s) => s.id)],
    );
    const byId = new Map(stored.map((row: any) => [row.id, row]));
    for (const session of sessions) expect(session.messages.nodes[0].session).toEqual(byId.get(session.id));
  });
});
