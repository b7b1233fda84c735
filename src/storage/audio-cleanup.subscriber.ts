import { EntitySubscriberInterface, EventSubscriber, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { createLogger } from '../logger';
import { dropRolledBackAudio, takeCommittedAudio } from './audio-cleanup';

const logger = createLogger();

/** Removes the audio objects of purged messages once the purge has committed (never before). */
@EventSubscriber()
export class AudioCleanupSubscriber implements EntitySubscriberInterface {
  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const { storage, keys } = takeCommittedAudio(event.queryRunner);
    if (!storage || keys.length === 0) return;
    // The rows are gone for good; a store hiccup leaves an unreferenced object, not a broken row.
    await storage.remove(keys).catch((error) => logger.warn({ err: error, keys: keys.length }, 'audio removal failed'));
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    dropRolledBackAudio(event.queryRunner);
  }
}
