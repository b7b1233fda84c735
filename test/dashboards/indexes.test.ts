import { MessageSearch1765427000000 } from '../../migrations/1765427000000-message-search';
import { bucketRange } from '../../src/activity/activity.buckets';
import { activityStatement } from '../../src/activity/activity.sql';
import { searchPageStatement } from '../../src/search/search.sql';
import { LIVE_SESSIONS, parseSessionFilter } from '../../src/sessions/session.filter';
import { sessionsPageStatement } from '../../src/sessions/session.sql';
import { SESSION_ORDERS } from '../../src/sessions/session.order';
import { onFreshDatabase } from '../harness';
import { insertSessions } from '../read/seed';

const INDEXES = ['messages_content_search_idx', 'sessions_title_search_idx', 'messages_created_at_idx'];

describe('the dashboards’ indexes', () => {
  it('are built on a database in use without blocking its writes', async () => {
    await onFreshDatabase(async ({ ds, f }) => {
      const owner = await f.user();
      const session = await f.session(owner);
      // The open writer's session: writers of one session wait for each other at its message count.
      const held = await f.session(owner);
      // The expression index on contents is gone since MessageSearchVector; this migration builds it again.
      for (const name of INDEXES) await ds.query(`DROP INDEX IF EXISTS "${name}"`);
      const insert = (content: string, into = session) =>
        `INSERT INTO messages (session_id, role, content) VALUES ('${into.id}', 'USER', '${content}')`;
      // A writer whose transaction stays open while the migration runs: the build waits for it.
      const writer = ds.createQueryRunner();
      const migrator = ds.createQueryRunner();
      const bystander = ds.createQueryRunner();
      try {
        await writer.startTransaction();
        await writer.query(insert('written before the build', held));
        const built = new MessageSearch1765427000000().up(migrator);
        // Until the build is waiting on the open writer, or has finished.
        const pid = (await migrator.query('SELECT pg_backend_pid() AS pid'))[0]?.pid;
        for (let i = 0; i < 100; i++) {
          const [row] = await bystander.query(`SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = $1`, [pid]);
          if (row?.wait_event_type === 'Lock' && /CREATE INDEX/.test(row.query)) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // Another writer goes on meanwhile; a plain CREATE INDEX would queue it behind the build.
        await bystander.query('SET statement_timeout = 3000');
        await bystander.query(insert('written during the build'));
        await bystander.query('RESET statement_timeout');
        await writer.commitTransaction();
        await built;
      } finally {
        if (writer.isTransactionActive) await writer.rollbackTransaction();
        await Promise.all([writer.release(), migrator.release(), bystander.release()]);
      }
      const valid: { relname: string; indisvalid: boolean }[] = await ds.query(
        `SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1) ORDER BY 1`,
        [INDEXES],
      );
      expect(valid).toEqual([...INDEXES].sort().map((relname) => ({ relname, indisvalid: true })));
      const found = await ds.query(`SELECT content FROM messages WHERE to_tsvector('english'::regconfig, content) @@ websearch_to_tsquery('english', 'build') ORDER BY 1`);
      expect(found.map((r: { content: string }) => r.content)).toEqual(['written before the build', 'written during the build']);
    }, 4);
  });

  it('are the ones the search, filter and activity statements read', async () => {
    await onFreshDatabase(async ({ ds, f }) => {
      const owner = await f.user();
      const sessions = await insertSessions(ds, owner.id, 2000);
      await ds.query(
        `INSERT INTO messages (session_id, role, content, created_at)
         SELECT s.id, 'USER', 'line ' || i || ' about ' || (ARRAY['apples','rivers','stones','clouds'])[1 + i % 4] || ' number ' || (i * 7919 % 100000),
           timestamptz '2026-01-01' + i * interval '1 minute'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS s(id, n), generate_series(1, 10) AS j, LATERAL (SELECT s.n * 10 + j AS i) x`,
        [sessions.map((s) => s.id)],
      );
      await ds.query('ANALYZE messages');
      await ds.query('ANALYZE sessions');
      const viewer = { id: owner.id, isAdmin: true };
      const plan = async ({ sql, params }: { sql: string; params: unknown[] }) =>
        ((await ds.query(`EXPLAIN ${sql}`, params)) as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');

      const search = searchPageStatement(viewer, { text: 'number 4242', filter: LIVE_SESSIONS, size: 20, after: null, before: null, backward: false }, true);
      expect(await plan(search)).toContain('messages_search_vector_idx');

      const filter = parseSessionFilter({ search: 'Bulk 1999' });
      const page = sessionsPageStatement(viewer, { filter, order: SESSION_ORDERS.CREATED_AT_DESC, size: 20, after: null, before: null, backward: false }, { withCount: true, withOwner: false });
      const filtered = await plan(page);
      expect(filtered).toContain('sessions_title_text_search_idx');
      expect(filtered).toContain('messages_search_vector_idx');

      const hour = bucketRange(new Date('2026-01-05T00:00:00Z'), new Date('2026-01-05T01:00:00Z'), 'MINUTE');
      expect(await plan(activityStatement(viewer, hour, LIVE_SESSIONS))).toContain('messages_created_at_idx');
    });
  });
});
