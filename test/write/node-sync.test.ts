import { randomUUID } from 'node:crypto';
import { codes, invalidFields, useTestServer } from '../harness';
import { DELETE_SESSION, REPORT_NODE_SYNC } from './documents';

const { t, f } = useTestServer({}, { invariants: true });

async function syncRows(sessionId: string) {
  return t.dataSource.query('SELECT node_id, status, error FROM session_node_sync WHERE session_id = $1 ORDER BY node_id', [sessionId]);
}

describe('reportNodeSync', () => {
  it('upserts the node row and keeps isSyncing equal to "some node is PENDING or SYNCING"', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const report = (nodeId: string, status: string, error?: string) =>
      t.gql(REPORT_NODE_SYNC, { input: { sessionId: s.id, nodeId, status, error } }, { as: member });
    expect((await report('node-a', 'PENDING')).data.reportNodeSync.isSyncing).toBe(true);
    expect((await report('node-b', 'SYNCED')).data.reportNodeSync.isSyncing).toBe(true);
    expect((await report('node-a', 'SYNCING')).data.reportNodeSync.isSyncing).toBe(true);
    expect((await report('node-a', 'FAILED', 'disk full')).data.reportNodeSync.isSyncing).toBe(false);
    expect((await report('node-b', 'SYNCED', 'ignored')).data.reportNodeSync.isSyncing).toBe(false);
    expect(await syncRows(s.id)).toEqual([
      { node_id: 'node-a', status: 'FAILED', error: 'disk full' },
      { node_id: 'node-b', status: 'SYNCED', error: null },
    ]);
  });

  it('records a repeated identical report as a newer report', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const input = { sessionId: s.id, nodeId: 'node-a', status: 'SYNCED' };
    await t.gql(REPORT_NODE_SYNC, { input }, { as: member });
    const [first] = await t.dataSource.query('SELECT updated_at FROM session_node_sync WHERE session_id = $1', [s.id]);
    await t.gql(REPORT_NODE_SYNC, { input }, { as: member });
    const [second] = await t.dataSource.query('SELECT updated_at FROM session_node_sync WHERE session_id = $1', [s.id]);
    expect(second.updated_at.getTime()).toBeGreaterThan(first.updated_at.getTime());
  });

  it('accepts reports on a soft-deleted session, so nodes can sync deletions, and leaves version and updatedAt alone', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const deleted = (await t.gql(DELETE_SESSION, { id: s.id }, { as: member })).data.deleteSession;
    const result = await t.gql(REPORT_NODE_SYNC, { input: { sessionId: s.id, nodeId: 'n1', status: 'SYNCING' } }, { as: member });
    expect(result.errors).toBeUndefined();
    expect(result.data.reportNodeSync).toMatchObject({ isSyncing: true, version: 1, updatedAt: deleted.updatedAt });
  });

  it("is NOT_FOUND for another member's session and BAD_USER_INPUT for a bad node id", async () => {
    const [member, other] = [await f.user(), await f.user()];
    const theirs = await f.session(other);
    expect(codes(await t.gql(REPORT_NODE_SYNC, { input: { sessionId: theirs.id, nodeId: 'n', status: 'PENDING' } }, { as: member }))).toEqual([
      'NOT_FOUND',
    ]);
    expect(await syncRows(theirs.id)).toEqual([]);
    const mine = await f.session(member);
    for (const nodeId of ['', 'n'.repeat(129)]) {
      expect(invalidFields(await t.gql(REPORT_NODE_SYNC, { input: { sessionId: mine.id, nodeId, status: 'PENDING' } }, { as: member }))).toEqual([
        'input.nodeId',
      ]);
    }
    expect(codes(await t.gql(REPORT_NODE_SYNC, { input: { sessionId: randomUUID(), nodeId: 'n', status: 'PENDING' } }, { as: member }))).toEqual([
      'NOT_FOUND',
    ]);
  });
});
