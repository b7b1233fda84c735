import { EntitySubscriberInterface, EventSubscriber, TransactionRollbackEvent } from 'typeorm';
import { forgetRolledBack } from './write-transaction';

/** Forgets the after-commit work of a rolled-back transaction or savepoint (see `afterCommit`):
 * what it was for (audio objects of purged rows) is still referenced by the rows that stay. */
@EventSubscriber()
export class AfterCommitRollbackSubscriber implements EntitySubscriberInterface {
  afterTransactionRollback(event: TransactionRollbackEvent): void {
    forgetRolledBack(event.queryRunner);
  }
}
