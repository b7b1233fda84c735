import { Context } from '../context';
import { answerWith } from '../consistency/answer';
import { lockSession } from '../consistency/locks';
import { hold } from '../db/held-rows';
import { writeTransaction } from '../db/write-transaction';
import { Session } from '../sessions/session.entity';
import { validateInput } from '../validation';
import { NodeSync, SyncStatus } from './node-sync.entity';
import { ReportNodeSyncInput } from './node-sync.inputs';

/**
 * Records one mesh node's sync state for a session the viewer may see (live or soft-deleted, so
 * nodes can sync deletions): upserts that node's row (`error` kept for FAILED only) and, through
 * the `recomputeSyncing` cascade, the session's `isSyncing`. Reports for one session take turns
 * on its row lock. Absent or invisible session: NOT_FOUND.
 */
export async function reportNodeSync(ctx: Context, raw: unknown): Promise<Session> {
  const input = await validateInput(ReportNodeSyncInput, raw);
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockSession(manager, ctx.viewer, input.sessionId, 'any');
    const sessionId = locked.session.id;
    const status = input.status;
    const error = status === SyncStatus.FAILED ? (input.error ?? null) : null;
    // The session's lock covers its node rows: one read under it is what the row is.
    const row = await manager.findOne(NodeSync, { where: { sessionId, nodeId: input.nodeId } });
    if (!row) {
      await manager.createQueryBuilder().insert().into(NodeSync).values({ sessionId, nodeId: input.nodeId, status, error }).updateEntity(false).execute();
      return locked;
    }
    hold(manager, NodeSync, [row]);
    row.status = status;
    row.error = error;
    // A repeated identical report still records when the node last reported.
    row.updatedAt = new Date(Math.max(Date.now(), row.updatedAt.getTime() + 1));
    await manager.save(row);
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
