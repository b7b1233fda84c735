import { Context } from '../context';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { lockSession, reloadSession } from '../sessions/lock-session';
import { Session } from '../sessions/session.entity';
import { validateInput } from '../validation';
import { NodeSync, SyncStatus } from './node-sync.entity';
import { ReportNodeSyncInput } from './node-sync.inputs';

/**
 * Records one mesh node's sync state for a session the viewer may see (live or soft-deleted, so
 * nodes can sync deletions): upserts that node's row (`error` kept for FAILED only) and, through
 * the node-sync subscriber, recomputes the session's `isSyncing`. Reports for one session take
 * turns on its row lock. Absent or invisible session: NOT_FOUND.
 */
export async function reportNodeSync(ctx: Context, raw: unknown): Promise<Session> {
  const input = await validateInput(ReportNodeSyncInput, raw);
  const session = await writeTransaction(ctx, async (manager) => {
    const current = await lockSession(manager, ctx.viewer, input.sessionId, 'any');
    const row =
      (await manager.findOne(NodeSync, { where: { sessionId: current.id, nodeId: input.nodeId } })) ??
      manager.create(NodeSync, { sessionId: current.id, nodeId: input.nodeId });
    row.status = input.status;
    row.error = input.status === SyncStatus.FAILED ? (input.error ?? null) : null;
    // A repeated identical report still records when the node last reported.
    if (row.updatedAt) row.updatedAt = new Date(Math.max(Date.now(), row.updatedAt.getTime() + 1));
    await manager.save(row);
    return reloadSession(manager, current.id);
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.sessionById.prime(session.id, session);
  return session;
}
