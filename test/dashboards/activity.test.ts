import fc from 'fast-check';
import { invalidFields, startTestServer, useTestServer } from '../harness';
import { at, dataSets, insertDataSet, NODES, rowsOf, STATUSES } from './data';
import { listedMessages, naiveSessions, NaiveFilter } from './naive';

const { t, f } = useTestServer();

const ACTIVITY = `query A($from: DateTime!, $to: DateTime!, $bucket: TimeBucket!, $filter: SessionFilter) {
  activity(from: $from, to: $to, bucket: $bucket, filter: $filter) { start sessionsCreated messagesPosted messagesWithAudio activeUsers }
}`;
const SUMMARY = `query N($filter: SessionFilter) {
  nodeSyncSummary(filter: $filter) { nodeId counts { status count } oldestPendingSince lastReportAt }
}`;

type Bucket = 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK';

/** The start of a time's bucket, from the calendar fields (not the server's arithmetic). */
function naiveStart(date: Date, bucket: Bucket): number {
  const d = new Date(date.getTime());
  d.setUTCSeconds(0, 0);
  if (bucket === 'MINUTE') return d.getTime();
  d.setUTCMinutes(0);
  if (bucket === 'HOUR') return d.getTime();
  d.setUTCHours(0);
  if (bucket === 'DAY') return d.getTime();
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.getTime();
}

const STEP: Record<Bucket, (ms: number) => number> = {
  MINUTE: (ms) => ms + 60_000,
  HOUR: (ms) => ms + 3_600_000,
  DAY: (ms) => {
    const d = new Date(ms);
    d.setUTCDate(d.getUTCDate() + 1);
    return d.getTime();
  },
  WEEK: (ms) => {
    const d = new Date(ms);
    d.setUTCDate(d.getUTCDate() + 7);
    return d.getTime();
  },
};

const ranges = fc
  .record({
    bucket: fc.constantFrom<Bucket>('MINUTE', 'HOUR', 'DAY', 'WEEK'),
    fromMin: fc.integer({ min: -3000, max: 700 }),
    lengthMin: fc.integer({ min: 1, max: 900 }),
    fromMs: fc.integer({ min: 0, max: 59_999 }),
  })
  .map(({ bucket, fromMin, lengthMin, fromMs }) => {
    const from = new Date(at(fromMin).getTime() + fromMs);
    const scale = bucket === 'MINUTE' ? 1 : bucket === 'HOUR' ? 10 : bucket === 'DAY' ? 100 : 300;
    return { bucket, from, to: new Date(from.getTime() + lengthMin * 60_000 * scale) };
  });

describe('activity', () => {
  it('counts what the rows hold, per UTC bucket, empty buckets included', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataSets({ maxMessages: 24 }),
        ranges,
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom<NaiveFilter['deleted']>('ACTIVE', 'DELETED', 'ALL'),
        fc.boolean(),
        async (data, range, viewerIndex, deleted, onNode) => {
          const { users } = await insertDataSet(t.dataSource, f, data);
          const viewer = users[viewerIndex];
          const filter = { deleted, ...(viewer.role === 'ADMIN' ? { userId: users[viewerIndex % 2].id } : {}), ...(onNode ? { nodeId: NODES[0] } : {}) };
          const rows = await rowsOf(t.dataSource, users.map((u) => u.id));
          let sessions = await naiveSessions(t.dataSource, rows, viewer, filter);
          if (onNode) sessions = sessions.filter((s) => rows.reports.some((r) => r.session_id === s.id && r.node_id === NODES[0]));
          const messages = listedMessages(rows, sessions);
          const owner = new Map(sessions.map((s) => [s.id, s.user_id]));

          const expected: { start: string; sessionsCreated: number; messagesPosted: number; messagesWithAudio: number; activeUsers: number }[] = [];
          const last = naiveStart(new Date(range.to.getTime() - 1), range.bucket);
          for (let start = naiveStart(range.from, range.bucket); start <= last; start = STEP[range.bucket](start)) {
            const end = STEP[range.bucket](start);
            const within = (d: Date) => d.getTime() >= Math.max(start, range.from.getTime()) && d.getTime() < Math.min(end, range.to.getTime());
            const created = sessions.filter((s) => within(s.created_at));
            const posted = messages.filter((m) => within(m.created_at));
            expected.push({
              start: new Date(start).toISOString(),
              sessionsCreated: created.length,
              messagesPosted: posted.length,
              messagesWithAudio: posted.filter((m) => m.audio_key !== null).length,
              activeUsers: new Set([...created.map((s) => s.user_id), ...posted.map((m) => owner.get(m.session_id))]).size,
            });
          }
          const result = await t.gql(ACTIVITY, { from: range.from.toISOString(), to: range.to.toISOString(), bucket: range.bucket, filter }, { as: viewer });
          if (expected.length > 1000) {
            expect(invalidFields(result)).toEqual(['to']);
            return;
          }
          expect(result.errors).toBeUndefined();
          expect(result.data.activity).toEqual(expected);
          expect(result.sql).toBe(2);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a reversed range and more than 1,000 buckets', async () => {
    const user = await f.user();
    const from = '2026-03-02T00:00:00.000Z';
    const ask = (to: string, bucket: Bucket) => t.gql(ACTIVITY, { from, to, bucket }, { as: user });
    expect(invalidFields(await ask(from, 'HOUR'))).toEqual(['to']);
    expect(invalidFields(await ask('2026-03-01T00:00:00.000Z', 'DAY'))).toEqual(['to']);
    expect((await ask('2026-03-02T16:40:00.000Z', 'MINUTE')).data.activity).toHaveLength(1000);
    expect(invalidFields(await ask('2026-03-02T16:40:00.001Z', 'MINUTE'))).toEqual(['to']);
    // 2026-03-02 is a Monday: whole weeks up to the one holding the last millisecond.
    const weeks = Math.ceil((Date.parse('2045-01-01T00:00:00.000Z') - Date.parse(from)) / (7 * 86_400_000));
    expect((await ask('2045-01-01T00:00:00.000Z', 'WEEK')).data.activity).toHaveLength(weeks);
  });

  it('costs its buckets in the query cost limit', async () => {
    const user = await f.user();
    const small = await startTestServer({ HUB_MAX_QUERY_COST: '2000' });
    try {
      const result = await small.gql(ACTIVITY, { from: '2026-03-02T00:00:00.000Z', to: '2026-03-02T01:00:00.000Z', bucket: 'MINUTE' }, { as: user });
      expect(result.errors?.[0]?.extensions?.reason).toBe('QUERY_COST');
    } finally {
      await small.close();
    }
  });
});

describe('nodeSyncSummary', () => {
  it('summarizes the visible sessions’ node reports per node', async () => {
    await fc.assert(
      fc.asyncProperty(dataSets(), fc.integer({ min: 0, max: 2 }), fc.constantFrom<NaiveFilter['deleted']>('ACTIVE', 'DELETED', 'ALL'), async (data, viewerIndex, deleted) => {
        const { users } = await insertDataSet(t.dataSource, f, data);
        const viewer = users[viewerIndex];
        // Nodes are shared by every test's sessions: an admin looks at this data set's users only.
        const filter = { deleted, ...(viewer.role === 'ADMIN' ? { userId: users[viewerIndex % 2].id } : {}) };
        const rows = await rowsOf(t.dataSource, users.map((u) => u.id));
        const visible = new Set((await naiveSessions(t.dataSource, rows, viewer, filter)).map((s) => s.id));
        const reports = rows.reports.filter((r) => visible.has(r.session_id));
        const nodes = [...new Set(reports.map((r) => r.node_id))].sort();
        const iso = (ms: number) => new Date(ms).toISOString();
        const expected = nodes.map((nodeId) => {
          const mine = reports.filter((r) => r.node_id === nodeId);
          const pending = mine.filter((r) => r.status === 'PENDING').map((r) => r.updated_at.getTime());
          return {
            nodeId,
            counts: STATUSES.map((status) => ({ status, count: mine.filter((r) => r.status === status).length })),
            oldestPendingSince: pending.length ? iso(Math.min(...pending)) : null,
            lastReportAt: iso(Math.max(...mine.map((r) => r.updated_at.getTime()))),
          };
        });
        const result = await t.gql(SUMMARY, { filter }, { as: viewer });
        expect(result.errors).toBeUndefined();
        expect(result.data.nodeSyncSummary).toEqual(expected);
        expect(result.sql).toBe(2);
      }),
      { numRuns: 40 },
    );
  });
});
