import { EntityManager } from 'typeorm';
import { afterCommit } from '../db/write-transaction';

/**
 * Removes audio objects whose messages (or uploads) this transaction hard-deletes, from the
 * write's own store once it commits; if it, or the savepoint they were recorded in, rolls back,
 * nothing is removed, so a failed purge never loses audio that rows still point to. Outside
 * `writeTransaction` (no store, no commit to wait for) it throws, rolling the purge back, rather
 * than orphan the objects silently.
 */
export function removeAudioAfterCommit(manager: EntityManager, keys: string[]): void {
  if (keys.length === 0) return;
  afterCommit(manager, async ({ storage, logger }) => {
    // The rows are gone for good; a store hiccup leaves an unreferenced object, not a broken row.
    await storage.remove(keys).catch((error: unknown) => logger.warn({ err: error, keys: keys.length }, 'audio removal failed'));
  });
}
