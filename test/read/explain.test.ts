import fc from 'fast-check';
import { viewerOf } from '../../src/users/token-user';
import { MESSAGE_COUNT_COLUMN, messagesPageColumn, MESSAGE_ORDERS } from '../../src/messages/message.sql';
import { relationsStatement } from '../../src/sessions/session.relations';
import { LIVE_SESSIONS } from '../../src/sessions/session.filter';
import { SESSION_ORDERS, SessionOrderName } from '../../src/sessions/session.order';
import { sessionsPageStatement } from '../../src/sessions/session.sql';
import { Role, User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';
import { insertMessages, insertSessions } from './seed';

const { t, f } = useTestServer();
let member: User;
let admin: User;
let sessions: { id: string; created_at: Date }[];
let busy: string;
beforeAll(async () => {
  member = await f.user();
  admin = await f.admin();
  // Enough rows that a sequential scan and sort would be the planner's choice without a usable index.
  sessions = await insertSessions(t.dataSource, member.id, 5000);
  const crowd = await f.user();
  await insertSessions(t.dataSource, crowd.id, 5000);
  busy = sessions[0].id;
  await insertMessages(t.dataSource, [busy], 5000);
  // Sessions hold a hundred messages on average over the same hours as the busy one, as a
  // chat hub's do; the planner's estimates follow the data.
  await insertMessages(t.dataSource, sessions.slice(1, 301).map((s) => s.id), 200, { stepSeconds: 25 });
  await t.dataSource.query('ANALYZE sessions');
  await t.dataSource.query('ANALYZE messages');
});

async function plan(sql: string, params: unknown[]): Promise<string> {
  const rows: { 'QUERY PLAN': string }[] = await t.dataSource.query(`EXPLAIN ${sql}`, params);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** A cursor near the end of the member's list, so only an index range can make the page cheap. */
function deepCursor(order: SessionOrderName): [string, string] {
  const deep = sessions[order === 'CREATED_AT_ASC' ? 4500 : 500];
  return [deep.created_at.toISOString(), deep.id];
}

describe('keyset statements', () => {
  it.each([
    ['a member', 'CREATED_AT_DESC', 'sessions_user_id_created_at_id_idx'],
    ['a member', 'CREATED_AT_ASC', 'sessions_user_id_created_at_id_idx'],
    ['a member', 'UPDATED_AT_DESC', 'sessions_user_id_updated_at_id_idx'],
    ['an admin', 'CREATED_AT_DESC', 'sessions_created_at_id_idx'],
    ['an admin', 'CREATED_AT_ASC', 'sessions_created_at_id_idx'],
    ['an admin', 'UPDATED_AT_DESC', 'sessions_updated_at_id_idx'],
  ] as const)('pages sessions for %s in %s from a deep cursor through %s', async (who, order, index) => {
    const viewer = viewerOf(who === 'a member' ? member : admin);
    const args = { filter: LIVE_SESSIONS, order: SESSION_ORDERS[order], size: 20, after: deepCursor(order), before: null, backward: false };
    const { sql, params } = sessionsPageStatement(viewer, args, { withCount: false, withOwner: true });
    const text = await plan(sql, params);
    // The index hands rows to the LIMIT already in page order: no sort of the list, no table scan.
    expect(text).toMatch(new RegExp(`Limit .*\\n\\s*->  Index Scan( Backward)? using ${index} on sessions s`));
    // The cursor bounds the index range instead of filtering rows after a full walk.
    expect(text).toMatch(/Index Cond: .*ROW\((s\.)?(created|updated)_at, (s\.)?id\)/);
    expect(text).not.toMatch(/Seq Scan on sessions/);
  });

  it.each(['CREATED_AT_ASC', 'CREATED_AT_DESC'] as const)(
    'pages the live messages of a session in %s from a deep cursor through the live-messages index',
    async (order) => {
      const viewer = { id: member.id, role: Role.MEMBER, isAdmin: false };
      // Deep into the busy session's 5000 messages, with most of them still ahead in this order.
      const seconds = order === 'CREATED_AT_ASC' ? 1000 : 4000;
      const after: [string, string] = [new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString(), '00000000-0000-4000-8000-000000000000'];
      const column = messagesPageColumn({ order: MESSAGE_ORDERS[order], probe: true, properties: null, size: 20, after, before: null, backward: false });
      const { sql, params } = relationsStatement([{ viewer, ids: [busy, sessions[1].id], column }]);
      const text = await plan(sql, params);
      // A live session's branch (the CASE's first sub-plan): the index walks from the cursor
      // straight into the LIMIT.
      expect(text).toMatch(/SubPlan 1\n\s*->  Subquery Scan .*\n\s*->  Limit .*\n\s*->  Index Scan( Backward)? using messages_live_session_id_created_at_id_idx on messages m /);
      expect(text).toMatch(/Index Cond: .*ROW\((m\.)?created_at, (m\.)?id\)/);
      expect(text).not.toMatch(/Seq Scan on messages/);
    },
  );

  it('looks up each owner by key, at any page size and order, and keeps the page in index order', async () => {
    // With a thousand users owning twenty sessions each (the bench's scale 1) and a plain
    // join, the planner hashed every user for a page of ten and sorted the joined page again. The
    // rows are added in a transaction that is rolled back: the other suites never see them.
    const runner = t.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await runner.query(`INSERT INTO users (email, display_name)
        SELECT 'explain-' || i || '@example.com', 'Explain ' || i FROM generate_series(1, 1000) i`);
      await runner.query(`INSERT INTO sessions (user_id, title)
        SELECT u.id, 'explain' FROM users u, generate_series(1, 20) WHERE u.email LIKE 'explain-%'`);
      await runner.query('ANALYZE users, sessions');
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(10),
          fc.constantFrom<SessionOrderName>('CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC'),
          fc.boolean(),
          fc.constantFrom('1.1', '2', '4'),
          fc.constantFrom('1MB', '128MB', '4GB'),
          async (size, order, withCount, randomPageCost, cacheSize) => {
            // From SSD to the default page cost, and a cache from far smaller than the data to larger.
            await runner.query(`SET LOCAL random_page_cost = ${randomPageCost}`);
            await runner.query(`SET LOCAL effective_cache_size = '${cacheSize}'`);
            const args = { filter: LIVE_SESSIONS, order: SESSION_ORDERS[order], size, after: null, before: null, backward: false };
            // The canonical dashboard's shape: the page, its owners and per-session relations.
            const messages = messagesPageColumn({ order: MESSAGE_ORDERS.CREATED_AT_DESC, probe: false, properties: null, size: 3, after: null, before: null, backward: false });
            const relations = [MESSAGE_COUNT_COLUMN, messages];
            const { sql, params } = sessionsPageStatement(viewerOf(admin), args, { withCount, withOwner: true, probe: false, relations, properties: ['id', 'userId', 'title', 'isSyncing', 'createdAt'], ownerProperties: ['id', 'displayName'] });
            const rows: { 'QUERY PLAN': string }[] = await runner.query(`EXPLAIN ${sql}`, params);
            const text = rows.map((r) => r['QUERY PLAN']).join('\n');
            expect(text).not.toMatch(/Seq Scan on users/);
            expect(text).toMatch(/Index Scan using users_pkey on users u/);
            // With the total, the page joins the count's one row and is sorted after (pageWithExtras).
            if (!withCount) expect(text).not.toMatch(/Sort Key: s\.(created|updated)_at/);
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
      await t.dataSource.query('ANALYZE users, sessions');
    }
  });
});
