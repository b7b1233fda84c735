import { hold } from '../db/held-rows';
import { writeTransaction, WriteDeps } from '../db/write-transaction';
import { Session } from './session.entity';

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
      const sessions = await manager
        .createQueryBuilder(Session, 's')
        .withDeleted()
        .where('s.deleted_at < :before', { before: props.deletedBefore })
        .orderBy('s.deleted_at', 'ASC')
        .addOrderBy('s.id', 'ASC')
        .limit(batchSize)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      // Locked just now: TypeORM need not read them again.
      if (sessions.length > 0) await manager.remove(hold(manager, Session, sessions));
      return sessions.length;
    });
    purged += count;
    if (count > 0) props.onBatch?.(count, purged);
    if (count < batchSize) return purged;
  }
}
