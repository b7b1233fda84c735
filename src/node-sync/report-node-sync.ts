import { Context } from '../context';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { hold } from '../db/held-rows';
import { writeTransaction } from '../db/write-transaction';
import { Session } from '../sessions/session.entity';
import { overLimit } from '../errors';
import { validateInput } from '../validation';
import { NodeSync, SyncStatus } from './node-sync.entity';
import { ReportNodeSyncInput } from './node-sync.inputs';

/**
 * Records one mesh node's sync state for a session the viewer may see (live or soft-deleted, so
 * nodes can sync deletions): upserts that node's row (`error` kept for FAILED only) and, through
 * the `recomputeSyncing` cascade, the session's `isSyncing`. Reports for one session take turns
 * on its row lock. Absent or invisible session: NOT_FOUND. A node new to a session that already
 * holds HUB_MAX_NODES_PER_SESSION nodes is refused (BAD_USER_INPUT, `extensions.limit`), so
 * `Session.nodeSync` is a bounded list like every other.
 */
export async function reportNodeSync(ctx: Context, raw: unknown): Promise<Session> {
  const input = await validateInput(ReportNodeSyncInput, raw);
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockSession(manager, ctx.viewer, input.sessionId, 'any');
    const sessionId = locked.session.id;
    const status = input.status;
    const error = status === SyncStatus.FAILED ? (input.error ?? null) : null;
    // The session's lock covers its node rows: one read under it is what they are, and with
    // this report's row they are the answer's `nodeSync`.
    const rows = await manager.find(NodeSync, { where: { sessionId } });
    const row = rows.find((r) => r.nodeId === input.nodeId);
    if (!row && rows.length >= ctx.config.maxNodesPerSession) {
      const max = ctx.config.maxNodesPerSession;
      throw overLimit('nodeId', `A session holds at most ${max} mesh nodes (HUB_MAX_NODES_PER_SESSION); this one is not among them`, 'HUB_MAX_NODES_PER_SESSION');
    }
    if (!row) {
      // An insert with RETURNING: the new row carries the `updatedAt` it stored.
      const inserted = manager.create(NodeSync, { sessionId, nodeId: input.nodeId, status, error });
      await manager.insert(NodeSync, inserted);
      return { ...locked, nodeSync: [...rows, inserted] };
    }
    hold(manager, NodeSync, [row]);
    row.status = status;
    row.error = error;
    // A repeated identical report still records when the node last reported.
    row.updatedAt = new Date(Math.max(Date.now(), row.updatedAt.getTime() + 1));
    await manager.save(row);
    return { ...locked, nodeSync: rows };
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
