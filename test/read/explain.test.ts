import { viewerOf } from '../../src/users/token-user';
import { messagesPageColumn, MESSAGE_ORDERS } from '../../src/messages/message.sql';
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
});
