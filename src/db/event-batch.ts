import { QueryRunner } from 'typeorm';

interface Batch {
  items: Map<string, unknown>;
  done: Promise<void>;
}

const pending = new WeakMap<QueryRunner, Map<string, Batch>>();

/**
 * Lets a subscriber handle one persistence statement's events as one set. TypeORM broadcasts
 * the events of a `save`/`remove` of N entities by calling every hook synchronously, one entity
 * after the other, and only then awaits them all; so the hooks called in that same tick join
 * one batch, and `run` executes once, on the next microtask, with every item (deduplicated by
 * key). Removing 100 users is then one cascade, not 100.
 */
export function inBatch<T>(
  queryRunner: QueryRunner,
  name: string,
  key: string,
  item: T,
  run: (items: T[]) => Promise<void>,
): Promise<void> {
  let byName = pending.get(queryRunner);
  if (!byName) pending.set(queryRunner, (byName = new Map()));
  let batch = byName.get(name);
  if (!batch) {
    const items = new Map<string, unknown>();
    const names = byName;
    const done = Promise.resolve().then(() => {
      names.delete(name);
      return run([...items.values()] as T[]);
    });
    batch = { items, done };
    byName.set(name, batch);
  }
  batch.items.set(key, item);
  return batch.done;
}

/**
 * A key column of the row an entity event is about: from the entity handed to `save`/`remove`,
 * the row TypeORM loaded, or the id a remove by id names (TypeORM passes whichever it has). A
 * subscriber that cannot tell which row a write is about must not let it through: `problem` is thrown.
 */
export function eventKey(
  event: { entity?: unknown; databaseEntity?: unknown; entityId?: unknown },
  key: string,
  problem: string,
): string {
  const value = [event.entity, event.databaseEntity, event.entityId]
    .map((source) => (source as Record<string, unknown> | undefined)?.[key])
    .find((v) => v != null);
  if (typeof value !== 'string' || value === '') throw new Error(problem);
  return value;
}
