import { QueryRunner } from 'typeorm';
import { inWriteTransaction, onWriteCommitted } from '../db/write-transaction';
import { createLogger } from '../logger';
import { AudioStorage } from './storage';

declare module '../db/write-transaction' {
  /** Every write names the store that holds its audio: a purge anywhere in it removes objects. */
  interface WriteDeps {
    storage: AudioStorage;
  }
}

interface Pending {
  /** Transaction depth when the keys were recorded: a rollback to a savepoint below it drops them. */
  depth: number;
  keys: string[];
}

const pending = new WeakMap<QueryRunner, Pending[]>();
const logger = createLogger();

const depthOf = (queryRunner: QueryRunner) =>
  queryRunner.isTransactionActive ? (queryRunner as unknown as { transactionDepth: number }).transactionDepth : 0;

/**
 * Records audio objects whose messages this transaction hard-deletes; they are removed from the
 * store once it commits, and forgotten if it rolls back, so a failed purge never loses audio that
 * rows still point to. Outside `writeTransaction` (no store, no after-commit hook) it throws,
 * rolling the purge back, rather than orphan the objects silently.
 */
export function removeAudioAfterCommit(queryRunner: QueryRunner, keys: string[]): void {
  if (keys.length === 0) return;
  if (!inWriteTransaction(queryRunner)) {
    throw new Error('Hard-deleting messages with audio needs an audio store: run the write through writeTransaction()');
  }
  const list = pending.get(queryRunner) ?? [];
  list.push({ depth: depthOf(queryRunner), keys });
  pending.set(queryRunner, list);
}

/** After a rollback (to a savepoint or entirely): forgets what the rolled-back part recorded. */
export function dropRolledBackAudio(queryRunner: QueryRunner): void {
  const depth = depthOf(queryRunner);
  const list = (pending.get(queryRunner) ?? []).filter((p) => p.depth <= depth);
  if (list.length) pending.set(queryRunner, list);
  else pending.delete(queryRunner);
}

// Once a write has committed, its recorded objects are unreferenced: remove them from its store.
onWriteCommitted(async (queryRunner, deps) => {
  const keys = (pending.get(queryRunner) ?? []).flatMap((p) => p.keys);
  pending.delete(queryRunner);
  if (keys.length === 0) return;
  // The rows are gone for good; a store hiccup leaves an unreferenced object, not a broken row.
  await deps.storage.remove(keys).catch((error) => logger.warn({ err: error, keys: keys.length }, 'audio removal failed'));
});
