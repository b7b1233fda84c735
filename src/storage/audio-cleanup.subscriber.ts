import { EntitySubscriberInterface, EventSubscriber, TransactionRollbackEvent } from 'typeorm';
import { dropRolledBackAudio } from './audio-cleanup';

/** Forgets the audio objects recorded by a rolled-back purge (or a rolled-back savepoint of one):
 * their rows still point to them. Removal after the commit is `writeTransaction`'s hook (audio-cleanup.ts). */
@EventSubscriber()
export class AudioCleanupSubscriber implements EntitySubscriberInterface {
  afterTransactionRollback(event: TransactionRollbackEvent): void {
    dropRolledBackAudio(event.queryRunner);
  }
}
