import { lockExpiredUploads } from '../consistency/locks';
import { writeTransaction, WriteDeps } from '../db/write-transaction';
import { removeAudioAfterCommit } from '../storage/audio-cleanup';

export interface CollectProps {
  /** Uploads that expired before this instant and were never attached are removed. */
  now?: Date;
  /** Upload rows per transaction. */
  batchSize?: number;
}

/**
 * The audio garbage collector (`hub gc-audio`, and `hub purge` after its sessions): removes the
 * uploads never attached to a message whose deadline has passed, one batch per transaction, and
 * their objects after each commit, except an object some message still names (an upload row
 * is never the only thing standing between a message and its bytes). Rows another transaction
 * holds (an upload being attached right now) are skipped, not waited for. Returns how many
 * upload rows it removed.
 */
export async function collectExpiredUploads(deps: WriteDeps, props: CollectProps = {}): Promise<number> {
  const now = props.now ?? new Date();
  const batchSize = props.batchSize ?? 500;
  let removed = 0;
  for (;;) {
    const count = await writeTransaction(deps, async (manager) => {
      const uploads = await lockExpiredUploads(manager, now, batchSize);
      if (uploads.length === 0) return 0;
      const keys: { key: string }[] = await manager.query(
        `SELECT k AS key FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.audio_key = k)`,
        [uploads.map((u) => u.key)],
      );
      await manager.remove(uploads);
      removeAudioAfterCommit(manager, keys.map((k) => k.key));
      return uploads.length;
    });
    removed += count;
    if (count < batchSize) return removed;
  }
}
