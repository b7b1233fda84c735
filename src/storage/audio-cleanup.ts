import { QueryRunner } from 'typeorm';
import { AudioStorage } from './storage';

interface Pending {
  /** Transaction depth when the keys were recorded: a rollback to a savepoint below it drops them. */
  depth: number;
  keys: string[];
}

const storages = new WeakMap<QueryRunner, AudioStorage>();
const pending = new WeakMap<QueryRunner, Pending[]>();

/** Names the store that holds the audio of rows deleted in this transaction (see `writeTransaction`). */
export function bindAudioStorage(queryRunner: QueryRunner, storage: AudioStorage): void {
  storages.set(queryRunner, storage);
}

/**
 * Records audio objects whose messages this transaction hard-deletes; they are removed from the
 * store once it commits, and forgotten if it rolls back, so a failed purge never loses audio that
 * rows still point to. Without a bound store it throws (rolling the purge back) rather than orphan
 * the objects silently.
 */
export function removeAudioAfterCommit(queryRunner: QueryRunner, keys: string[]): void {
  if (keys.length === 0) return;
  if (!storages.has(queryRunner)) {
    throw new Error('Hard-deleting messages with audio needs an audio store: run the write through writeTransaction()');
  }
  const list = pending.get(queryRunner) ?? [];
  list.push({ depth: queryRunner.isTransactionActive ? (queryRunner as unknown as { transactionDepth: number }).transactionDepth : 0, keys });
  pending.set(queryRunner, list);
}

/** After the outermost commit: the recorded objects, now unreferenced. */
export function takeCommittedAudio(queryRunner: QueryRunner): { storage?: AudioStorage; keys: string[] } {
  if (queryRunner.isTransactionActive) return { keys: [] };
  const list = pending.get(queryRunner) ?? [];
  pending.delete(queryRunner);
  return { storage: storages.get(queryRunner), keys: list.flatMap((p) => p.keys) };
}

/** After a rollback (to a savepoint or entirely): forgets what the rolled-back part recorded. */
export function dropRolledBackAudio(queryRunner: QueryRunner): void {
  const depth = queryRunner.isTransactionActive ? (queryRunner as unknown as { transactionDepth: number }).transactionDepth : 0;
  const list = (pending.get(queryRunner) ?? []).filter((p) => p.depth <= depth);
  if (list.length) pending.set(queryRunner, list);
  else pending.delete(queryRunner);
}
