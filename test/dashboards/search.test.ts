import fc from 'fast-check';
import { codes, GqlResult, invalidFields, useTestServer } from '../harness';
import { liveWs } from '../live/support/clients';
import { dataSets, HOSTILE, insertDataSet, rowsOf, WORDS } from './data';
import { listedMessages, naiveSessions, NaiveFilter, searchable } from './naive';

const { t, f } = useTestServer();

const SEARCH = `query S($q: String!, $filter: SessionFilter, $first: Int, $after: String, $last: Int, $before: String) {
  searchMessages(query: $q, filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor rank highlight node { id content session { id title } } }
  }
}`;

/** Search texts in web search syntax, mostly words the data holds: words, phrases, exclusions,
 * OR, and stray syntax or any text now and then. */
const word = fc.constantFrom(...WORDS.filter((w) => w !== 'the' && w !== 'and'));
const queries = fc.oneof(
  { weight: 5, arbitrary: word },
  { weight: 1, arbitrary: fc.tuple(word, word).map(([a, b]) => `${a} OR ${b}`) },
  { weight: 1, arbitrary: fc.tuple(word, word).map(([a, b]) => `"${a} ${b}"`) },
  { weight: 1, arbitrary: fc.tuple(word, word).map(([a, b]) => `${a} -${b}`) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom('"', '-', '(', ')', '&', '|', '!', ':*', '<->', "'", 'OR', 'the')), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join(' ')),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

type Edge = { cursor: string; rank: number; highlight: string; node: { id: string; content: string; session: { id: string } } };

describe('searchMessages', () => {
  it('lists exactly the visible matching messages, best first, over every page', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataSets({ maxMessages: 24 }),
        queries,
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom<NaiveFilter['deleted']>('ACTIVE', 'DELETED', 'ALL', undefined),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        async (data, q, viewerIndex, deleted, size, backward) => {
          const { users } = await insertDataSet(t.dataSource, f, data);
          const viewer = users[viewerIndex];
          // The admin searches this data set's users (other tests' rows are not this property's).
          const filter: NaiveFilter = { deleted, ...(viewer.role === 'ADMIN' ? { userId: users[viewerIndex % 2].id } : {}) };
          const rows = await rowsOf(t.dataSource, users.map((u) => u.id));
          const sessions = await naiveSessions(t.dataSource, rows, viewer, filter);
          const listed = listedMessages(rows, sessions);
          const ranked: { id: string; hit: boolean; rank: number }[] = listed.length
            ? await t.dataSource.query(
                `SELECT id, to_tsvector('english', t) @@ websearch_to_tsquery('english', $3) AS hit,
                   ts_rank(to_tsvector('english', t), websearch_to_tsquery('english', $3))::float8 AS rank
                 FROM unnest($1::uuid[], $2::text[]) AS x(id, t)`,
                [listed.map((m) => m.id), listed.map((m) => searchable(m.content)), q],
              )
            : [];
          const expected = ranked
            .filter((r) => r.hit)
            .sort((a, b) => b.rank - a.rank || (a.id < b.id ? 1 : -1))
            .map((r) => [r.id, r.rank]);

          const got: Edge[] = [];
          let cursor: string | null = null;
          for (let page = 0; page < 50; page++) {
            const vars: Record<string, unknown> = backward ? { q, filter, last: size, before: cursor } : { q, filter, first: size, after: cursor };
            const result: GqlResult = await t.gql(SEARCH, vars, { as: viewer });
            expect(result.errors).toBeUndefined();
            const conn: { totalCount: number; edges: Edge[]; pageInfo: Record<string, any> } = result.data.searchMessages;
            expect(conn.totalCount).toBe(expected.length);
            expect(result.sql).toBe(2);
            if (backward) got.unshift(...conn.edges);
            else got.push(...conn.edges);
            const more = backward ? conn.pageInfo.hasPreviousPage : conn.pageInfo.hasNextPage;
            if (!more) break;
            cursor = backward ? conn.pageInfo.startCursor : conn.pageInfo.endCursor;
          }
          expect(got.map((e) => [e.node.id, e.rank])).toEqual(expected);
          for (const edge of got) expect(edge.highlight).not.toMatch(/<(?!\/?mark>)/);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('marks matches in HTML-safe highlights, whatever markup the content holds', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const hostile = fc
      .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.constantFrom(...WORDS), fc.string({ maxLength: 6 })), { minLength: 0, maxLength: 20 })
      .map((parts) => parts.join(' ').replace(/\u0000/g, ''));
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (before, after) => {
        const content = `${before} zebras${after.startsWith(' ') ? '' : ' '}${after}`;
        const message = await f.message(session, { content });
        const result = await t.gql(
          `query H($q: String!, $filter: SessionFilter) { searchMessages(query: $q, filter: $filter, first: 100) { edges { highlight node { id } } } }`,
          { q: 'zebra', filter: { userId: owner.id } },
          { as: owner },
        );
        expect(result.errors).toBeUndefined();
        const edge = result.data.searchMessages.edges.find((e: Edge) => e.node.id === message.id);
        expect(edge).toBeDefined();
        const { highlight } = edge as Edge;
        // The marks are the only markup, balanced, and each holds a match.
        const marked = [...highlight.matchAll(/<mark>(.*?)<\/mark>/g)].map((m) => m[1]);
        expect(marked.length).toBeGreaterThan(0);
        for (const word of marked) expect(word.toLowerCase()).toMatch(/^zebra/);
        const bare = highlight.replace(/<\/?mark>/g, '');
        expect(bare).not.toMatch(/[<>"']/);
        // What is left is the content's own text, escaped: each fragment is a piece of it.
        const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
        for (const fragment of bare.split(' … ')) expect(content.replace(/\s+/g, ' ')).toContain(decode(fragment).replace(/\s+/g, ' ').trim());
        await t.dataSource.query(`DELETE FROM messages WHERE id = $1`, [message.id]);
      }),
      { numRuns: 60 },
    );
  });

  it('finds a word whatever markup or entity it sits in, in a message and in a title', async () => {
    // PostgreSQL's parser reads each of these spans as one tag or entity token, without words.
    const span = fc.constantFrom<[string, string]>(['<', '>'], ['<a ', ' >'], ['<p title=', '>'], ['<a href="x" ', '/>'], ['</a ', '>'], ['<!-- ', ' -->'], ['<?xml ', ' ?>'], ['&', ';'], ['<a b="', '">']);
    const around = fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.constantFrom(...WORDS)), { maxLength: 4 }).map((parts) => parts.join(' '));
    const owner = await f.user();
    await fc.assert(
      fc.asyncProperty(span, around, around, async ([open, close], before, after) => {
        const text = `${before} ${open}zebras${close} ${after}`;
        const session = await f.session(owner, { title: text });
        const message = await f.message(await f.session(owner), { content: text });
        const found = await t.gql(
          `query F($mine: SessionFilter, $titled: SessionFilter) {
            searchMessages(query: "zebra", filter: $mine, first: 100) { nodes { id } }
            sessions(filter: $titled, first: 100) { nodes { id } }
          }`,
          { mine: { userId: owner.id }, titled: { userId: owner.id, search: 'zebra' } },
          { as: owner },
        );
        expect(found.errors).toBeUndefined();
        expect(found.data.searchMessages.nodes).toEqual([{ id: message.id }]);
        expect(found.data.sessions.nodes.map((n: { id: string }) => n.id).sort()).toEqual([session.id, message.sessionId].sort());
        await t.dataSource.query(`DELETE FROM sessions WHERE user_id = $1`, [owner.id]);
      }),
      { numRuns: 40 },
    );
  });

  it('binds cursors to the query text and the filter', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    for (const content of ['apple banana', 'apple cherry', 'banana cherry', 'apple']) await f.message(session, { content });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('apple', 'banana', 'cherry'), fc.constantFrom('apple', 'banana', 'cherry', 'apple ', 'Apple'), fc.boolean(), async (a, b, otherFilter) => {
        const first = await t.gql(SEARCH, { q: a, first: 1 }, { as: owner });
        expect(first.errors).toBeUndefined();
        const cursor = first.data.searchMessages.pageInfo.endCursor;
        const filter = otherFilter ? { deleted: 'ALL' } : undefined;
        const next = await t.gql(SEARCH, { q: b, first: 1, after: cursor, filter }, { as: owner });
        if (a === b && !otherFilter) expect(next.errors).toBeUndefined();
        else expect(invalidFields(next)).toEqual(['after']);
      }),
      { numRuns: 30 },
    );
  });

  it('takes any rank a cursor of its search can carry, and refuses every other value', async () => {
    const owner = await f.user();
    const q = 'apple';
    // The list a cursor of this search names, read back from a real cursor (its format is opaque to clients).
    const session = await f.session(owner);
    await f.message(session, { content: 'apple' });
    const real = (await t.gql(SEARCH, { q, first: 1 }, { as: owner })).data.searchMessages.pageInfo.endCursor as string;
    const { l } = JSON.parse(Buffer.from(real, 'base64url').toString()) as { l: string };
    const cursor = (rank: string) => Buffer.from(JSON.stringify({ l, k: [rank, session.id] })).toString('base64url');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => ({ rank: String(d), ok: true })),
          fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '0.10', '+1', '01', '1.', '.5', '', ' 1', '0x10', '1_0', '-0').map((rank) => ({ rank, ok: false })),
          fc.string({ maxLength: 12 }).filter((r) => !Number.isFinite(Number(r)) || String(Number(r)) !== r).map((rank) => ({ rank, ok: false })),
        ),
        fc.boolean(),
        async ({ rank, ok }, before) => {
          const result = await t.gql(SEARCH, before ? { q, last: 5, before: cursor(rank) } : { q, first: 5, after: cursor(rank) }, { as: owner });
          if (ok) expect(result.errors).toBeUndefined();
          else expect(invalidFields(result)).toEqual([before ? 'before' : 'after']);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('answers a dashboard of search, activity and sync health in one statement each', async () => {
    const owner = await f.user();
    await f.message(await f.session(owner), { content: 'a first draft' });
    const result = await t.gql(
      `{ searchMessages(query: "draft", first: 5) { totalCount edges { rank highlight node { id content session { id title } } } }
         activity(from: "2026-03-01T00:00:00.000Z", to: "2026-03-08T00:00:00.000Z", bucket: DAY) { start messagesPosted activeUsers }
         nodeSyncSummary { nodeId counts { status count } } }`,
      {},
      { as: owner },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.searchMessages.totalCount).toBe(1);
    // Authentication, then one statement per field.
    expect(result.sql).toBe(4);
  });

  it('accepts any search syntax and refuses a text over 256 characters', async () => {
    const owner = await f.user();
    for (const q of ['"', '-', 'OR', '((', 'a & b | !c', ':*', '', '   ', "'''"]) {
      const result = await t.gql(SEARCH, { q, first: 5 }, { as: owner });
      expect(result.errors).toBeUndefined();
    }
    expect(invalidFields(await t.gql(SEARCH, { q: 'x'.repeat(257) }, { as: owner }))).toEqual(['query']);
    expect((await t.gql(SEARCH, { q: 'x'.repeat(256) }, { as: owner })).errors).toBeUndefined();
    const sessions = `query($filter: SessionFilter) { sessions(filter: $filter) { totalCount } }`;
    expect(invalidFields(await t.gql(sessions, { filter: { search: 'y'.repeat(257) } }, { as: owner }))).toEqual(['filter.search']);
    expect(codes(await t.gql(SEARCH, { q: 'a\u0000b' }, { as: owner }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('SessionFilter.search', () => {
  it('lists exactly the sessions whose title or listed messages match', async () => {
    await fc.assert(
      fc.asyncProperty(dataSets(), queries, fc.integer({ min: 0, max: 2 }), fc.constantFrom<NaiveFilter['deleted']>('ACTIVE', 'DELETED', 'ALL'), async (data, q, viewerIndex, deleted) => {
        const { users } = await insertDataSet(t.dataSource, f, data);
        const viewer = users[viewerIndex];
        const filter: NaiveFilter = { deleted, search: q, ...(viewer.role === 'ADMIN' ? { userId: users[viewerIndex % 2].id } : {}) };
        const rows = await rowsOf(t.dataSource, users.map((u) => u.id));
        const expected = (await naiveSessions(t.dataSource, rows, viewer, filter)).map((s) => s.id).sort();
        const result = await t.gql(`query($filter: SessionFilter) { sessions(first: 100, filter: $filter) { totalCount nodes { id } } }`, { filter }, { as: viewer });
        expect(result.errors).toBeUndefined();
        expect(result.data.sessions.nodes.map((s: { id: string }) => s.id).sort()).toEqual(expected);
        expect(result.data.sessions.totalCount).toBe(expected.length);
        // The same filter on a user's sessions.
        const owner = users[viewerIndex === 2 ? viewerIndex % 2 : viewerIndex];
        const nested = await t.gql(`query($id: ID!, $filter: SessionFilter) { user(id: $id) { sessions(first: 100, filter: $filter) { nodes { id } } } }`, { id: owner.id, filter: { deleted, search: q } }, { as: viewer });
        expect(nested.errors).toBeUndefined();
        if (nested.data.user) expect(nested.data.user.sessions.nodes.map((s: { id: string }) => s.id).sort()).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });
});

describe('sessionChanged', () => {
  it('refuses filter.search with BAD_USER_INPUT (a search cannot be matched live)', async () => {
    const user = await f.user();
    const ws = liveWs(t.url, t.tokenFor(user));
    try {
      const refused = ws.subscribe('subscription($filter: SessionFilter) { sessionChanged(filter: $filter) { kind } }', { filter: { search: 'apple' } });
      await refused.done();
      expect(refused.error).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', validation: [expect.objectContaining({ field: 'filter.search' })] }) }),
      ]);
    } finally {
      await ws.dispose();
    }
  });
});
