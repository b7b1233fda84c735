import { lockSessionsDeletedBefore } from '../consistency/locks';
import { writeTransaction, WriteDeps } from '../db/write-transaction';

export interface PurgeDeletedProps {
  /** Sessions soft-deleted before this instant are purged. */
  deletedBefore: Date;
  /** Sessions per transaction. */
  batchSize?: number;
  /** Told after each committed batch: its size and the total so far (the CLI shows progress). */
  onBatch?: (purged: number, total: number) => void;
}

/**
 * The purge job: hard-deletes sessions soft-deleted before `deletedBefore` through the same
 * cascade as `purgeSession` (the session subscriber), one batch per transaction so a large
 * backlog never holds long locks; rows another transaction holds are skipped, not waited for.
 * Returns how many sessions it purged.
 */
export async function purgeDeletedSessions(deps: WriteDeps, props: PurgeDeletedProps): Promise<number> {
  const batchSize = props.batchSize ?? 500;
  let purged = 0;
  for (;;) {
    const count = await writeTransaction(deps, async (manager) => {
      // Locked (and held) just now: TypeORM need not read them again.
      const sessions = await lockSessionsDeletedBefore(manager, props.deletedBefore, batchSize);
      if (sessions.length > 0) await manager.remove(sessions);
      return sessions.length;
    });
    purged += count;
    if (count > 0) props.onBatch?.(count, purged);
    if (count < batchSize) return purged;
  }
}
