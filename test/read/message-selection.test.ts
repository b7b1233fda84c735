/**
 * A list's message pages read only what the selection asks for (src/messages/message.columns.ts):
 * the columns its nodes' fields read, no probe row without `pageInfo`, timestamps through
 * PostgreSQL's JSON. Whatever the selection (fields, aliases, fragments, edges, pageInfo, cursors,
 * audio), the answer is the same as that of the selection of every field, cut to the fields asked
 * for; and a message read through such a page is whole when read again by id in the same request.
 */
import fc from 'fast-check';
import { useTestServer } from '../harness';
import { MessageRole, MessageStatus } from '../../src/messages/message.entity';
import { isoFromJson } from '../../src/db/entity-rows';

const { t, f } = useTestServer();

const FIELDS = [
  'id', 'role', 'content', 'createdAt', 'deletedAt', '__typename', 'session { id }', 'audio { key contentType byteSize }',
  'status', 'usage { inputTokens outputTokens model }',
] as const;
const ALL = FIELDS.join(' ');

let admin: Awaited<ReturnType<typeof f.admin>>;
/** This file's sessions only: other suites write to the shared database between two reads. */
let mine = '';
beforeAll(async () => {
  admin = await f.admin();
  const owner = await f.user();
  mine = `userId: "${owner.id}"`;
  for (let i = 0; i < 4; i += 1) {
    const session = await f.session(owner, { title: `selection ${i}` });
    // Distinct milliseconds, some with trailing zeros (PostgreSQL's JSON drops them).
    for (let j = 0; j < i + 1; j += 1) {
      await f.message(session, {
        createdAt: new Date(Date.UTC(2026, 10, 1, 8, i, j, [0, 100, 120, 123][j % 4])),
        role: MessageRole.ASSISTANT,
        ...(j === 1 ? { audioKey: `audio/${session.id}/a${j}.ogg`, audioContentType: 'audio/ogg', audioByteSize: 1234 } : {}),
        ...(j === 2 ? { status: MessageStatus.STREAMING, inputTokens: 5, outputTokens: 6, model: 'm' } : {}),
      });
    }
  }
});

/** `value` cut to the response names of `fields` (each a field name, with a sub-selection or not). */
function cut(node: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => field.split(' ')[0]).map((name) => [name, node[name]]));
}

describe('message pages read per selection', () => {
  it('answer as the page of every field does, cut to the selection, in the same statements', async () => {
    const selections = fc.record({
      fields: fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: FIELDS.length }),
      via: fc.constantFrom('nodes', 'edges', 'fragment'),
      pageInfo: fc.boolean(),
      first: fc.integer({ min: 1, max: 3 }),
      order: fc.constantFrom('CREATED_AT_ASC', 'CREATED_AT_DESC'),
    });
    await fc.assert(
      fc.asyncProperty(selections, async ({ fields, via, pageInfo, first, order }) => {
        const inner = (selected: string) =>
          via === 'nodes' ? `nodes { ${selected} }` : via === 'edges' ? `edges { cursor node { ${selected} } }` : `nodes { ...M }`;
        const page = (selected: string) =>
          `messages(first: ${first}, orderBy: ${order}) { ${inner(selected)} ${pageInfo ? 'pageInfo { hasNextPage endCursor }' : ''} }`;
        const doc = (selected: string) =>
          `{ sessions(first: 20, filter: { ${mine} }) { nodes { id title ${page(selected)} } } }${via === 'fragment' ? ` fragment M on Message { ${selected} }` : ''}`;
        const full = await t.gql(doc(ALL), {}, { as: admin });
        const some = await t.gql(doc(fields.join(' ')), {}, { as: admin });
        expect(full.errors).toBeUndefined();
        expect(some.errors).toBeUndefined();
        expect(some.sql).toBe(full.sql);
        const fullSessions = full.data.sessions.nodes;
        some.data.sessions.nodes.forEach((session: any, i: number) => {
          const expected = fullSessions[i].messages;
          if (via === 'edges') {
            expect(session.messages.edges.map((e: any) => e.cursor)).toEqual(expected.edges.map((e: any) => e.cursor));
            expect(session.messages.edges.map((e: any) => e.node)).toEqual(expected.edges.map((e: any) => cut(e.node, fields)));
          } else {
            expect(session.messages.nodes).toEqual(expected.nodes.map((n: any) => cut(n, fields)));
          }
          if (pageInfo) expect(session.messages.pageInfo).toEqual(expected.pageInfo);
        });
        // Timestamps through PostgreSQL's JSON, made canonical in Node: as to_char writes them.
        const listed = full.data.sessions.nodes.flatMap((session: any) =>
          via === 'edges' ? session.messages.edges.map((e: any) => e.node) : session.messages.nodes,
        );
        const stored: { id: string; created: string }[] = await t.dataSource.query(
          `SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created FROM messages WHERE id = ANY($1::uuid[])`,
          [listed.map((m: any) => m.id)],
        );
        const created = new Map(stored.map((row) => [row.id, row.created]));
        for (const node of listed) expect(node.createdAt).toBe(created.get(node.id));
      }),
      { numRuns: 40 },
    );
  }, 180_000);

  it('never hands a message cut to a selection to a field that reads it whole', async () => {
    const listed = await t.gql(`{ sessions(first: 4, filter: { ${mine} }) { nodes { messages(first: 3) { nodes { id } } } } }`, {}, { as: admin });
    const ids: string[] = listed.data.sessions.nodes.flatMap((s: any) => s.messages.nodes.map((m: any) => m.id));
    expect(ids.length).toBeGreaterThan(0);
    const expected = await t.gql(`{ ${ids.map((id, i) => `m${i}: message(id: "${id}") { id content createdAt session { id } }`).join(' ')} }`, {}, { as: admin });
    // The page and the messages by id in one request: the page's cut rows must not stand in for them.
    const both = await t.gql(
      `{ sessions(first: 4, filter: { ${mine} }) { nodes { messages(first: 3) { nodes { id } } } } ${ids.map((id, i) => `m${i}: message(id: "${id}") { id content createdAt session { id } }`).join(' ')} }`,
      {},
      { as: admin },
    );
    expect(both.errors).toBeUndefined();
    for (let i = 0; i < ids.length; i += 1) expect(both.data[`m${i}`]).toEqual(expected.data[`m${i}`]);
  });

  it('make PostgreSQL’s JSON timestamps the text to_char writes, in any session time zone', async () => {
    const zones = ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'Europe/Paris'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(2999, 11, 31)), noInvalidDate: true }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(...zones),
        async (dates, zone) => {
          const rows: { json: string; text: string }[] = await t.dataSource.transaction(async (manager) => {
            await manager.query(`SELECT set_config('timezone', $1, true)`, [zone]);
            return manager.query(
              `SELECT to_json(t)::text AS json, to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS text
               FROM unnest($1::timestamptz(3)[]) AS t`,
              [dates.map((d) => d.toISOString())],
            );
          });
          for (const row of rows) expect(isoFromJson(JSON.parse(row.json))).toBe(row.text);
        },
      ),
      { numRuns: 40 },
    );
  });
});
