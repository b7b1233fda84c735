import { EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { EntityLoaderState, patchInternal, PersistExecutorState } from './typeorm-internals';

/**
 * Rows a write transaction holds: read under a row lock (or inserted) by this transaction, so
 * no other transaction can change them until it ends. Two things follow, both kept here:
 *  - TypeORM's persistence (`save`/`softRemove`/`recover`/`remove`) reads every entity it is
 *    given again before writing it, to compute the change; for a held row that read returns
 *    what we already have, so it is skipped (the snapshot taken when the row was held serves
 *    as TypeORM's "database entity");
 *  - set-based cascade statements that change held rows (`updated_at`, `deleted_at`,
 *    `is_syncing` … `RETURNING`) write the returned values back into the held entities, so the
 *    write can answer from what the transaction itself wrote, never from a later read that a
 *    concurrent delete could make vanish.
 * Everything is keyed by the transaction's query runner and dies with it (a retried attempt
 * starts empty).
 */

interface Held {
  entity: ObjectLiteral;
  /** The row as the database has it now (TypeORM diffs the entity against it). */
  snapshot: ObjectLiteral;
}

const byRunner = new WeakMap<QueryRunner, Map<string, Held>>();
const byEntity = new WeakMap<QueryRunner, WeakMap<ObjectLiteral, Held>>();

function runnerOf(manager: EntityManager): QueryRunner {
  if (!manager.queryRunner) throw new Error('held rows need a manager bound to a transaction');
  return manager.queryRunner;
}

function keyOf(manager: EntityManager, target: EntityTarget<ObjectLiteral>, entity: ObjectLiteral): string {
  const metadata = manager.connection.getMetadata(target);
  return `${metadata.tableName}:${metadata.primaryColumns.map((c) => String(c.getEntityValue(entity))).join(':')}`;
}

function copy<T extends ObjectLiteral>(entity: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(entity)), entity);
}

/** Records entities this transaction holds (read under a lock, or inserted by it); returns them. */
export function hold<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, entities: T[]): T[] {
  const runner = runnerOf(manager);
  let rows = byRunner.get(runner);
  let objects = byEntity.get(runner);
  if (!rows || !objects) {
    byRunner.set(runner, (rows = new Map()));
    byEntity.set(runner, (objects = new WeakMap()));
  }
  for (const entity of entities) {
    const held = { entity, snapshot: copy(entity) };
    rows.set(keyOf(manager, target, entity), held);
    objects.set(entity, held);
  }
  return entities;
}

/** The held entity of `target` with this primary key (`'id'` or the composite key's values), if any. */
export function heldRow<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, ...key: string[]): T | undefined {
  const metadata = manager.connection.getMetadata(target);
  return byRunner.get(runnerOf(manager))?.get(`${metadata.tableName}:${key.join(':')}`)?.entity as T | undefined;
}

/**
 * Writes the columns a statement returned (`RETURNING id, updated_at, …`, database column
 * names) into the held entities with those ids; rows of entities not held are ignored.
 */
export function refreshHeld(manager: EntityManager, target: EntityTarget<ObjectLiteral>, rows: Record<string, unknown>[]): void {
  const held = byRunner.get(runnerOf(manager));
  if (!held || rows.length === 0) return;
  const metadata = manager.connection.getMetadata(target);
  for (const row of rows) {
    const entry = held.get(`${metadata.tableName}:${metadata.primaryColumns.map((c) => String(row[c.databaseName])).join(':')}`);
    if (!entry) continue;
    for (const [name, value] of Object.entries(row)) {
      const column = metadata.findColumnWithDatabaseName(name);
      if (!column || column.isPrimary) continue;
      column.setEntityValue(entry.entity, value);
      column.setEntityValue(entry.snapshot, value);
    }
  }
}

let installed = false;

/**
 * Teaches TypeORM's persistence to take the held snapshot instead of reading the row again,
 * and to keep the snapshot equal to the row once it has written it. Idempotent.
 */
export function installHeldRows(): void {
  if (installed) return;
  installed = true;
  patchInternal('SubjectDatabaseEntityLoader', 'load', (load) =>
    function (this: EntityLoaderState, ...args: unknown[]) {
      const objects = byEntity.get(this.queryRunner);
      for (const subject of objects ? this.subjects : []) {
        const held = subject.entity && !subject.databaseEntity ? objects!.get(subject.entity) : undefined;
        if (!held) continue;
        subject.databaseEntity = copy(held.snapshot);
        subject.databaseEntityLoaded = true;
      }
      return load.apply(this, args);
    },
  );

  patchInternal('EntityPersistExecutor', 'execute', (execute) =>
    async function (this: PersistExecutorState, ...args: unknown[]) {
      await execute.apply(this, args);
      const objects = this.queryRunner && byEntity.get(this.queryRunner);
      if (!objects) return;
      for (const entity of Array.isArray(this.entity) ? this.entity : [this.entity]) {
        const held = objects.get(entity);
        if (held) held.snapshot = copy(entity);
      }
    },
  );
}
