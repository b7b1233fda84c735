import { AsyncLocalStorage } from 'node:async_hooks';
import { DeleteQueryBuilder, EntityManager, EntityTarget, getMetadataArgsStorage, InsertQueryBuilder, ObjectLiteral, UpdateQueryBuilder } from 'typeorm';
import { EntityPersistExecutor } from 'typeorm/persistence/EntityPersistExecutor';
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder';

/**
 * Write guards. Entity subscribers own the cascades and derived columns of the data model, but
 * TypeORM hands them entities only from `save`, `remove`, `softRemove` and `recover`. The other
 * write paths (`update`, `delete`, `softDelete`, `restore`, `increment`, `upsert`, `clear` and
 * their QueryBuilder forms, on a Repository or an EntityManager) give subscribers nothing, not even an
 * id, so on a guarded entity they would silently leave orphans or stale derived columns. For the
 * guarded tables those paths throw an `UnobservedWriteError` instead.
 *
 * How: every update, delete, soft-delete/restore and upsert QueryBuilder `execute()` on a guarded
 * table is checked. It may run only
 *  - inside TypeORM's own persistence (`save`/`remove`/`softRemove`/`recover`, which builds those
 *    queries with listeners off because it broadcasts the events itself), or
 *  - inside `cascadeWrites(…)`, the escape hatch used only by the entity subscribers for their own
 *    set-based cascade SQL (so deleting 100 users is a handful of statements, not one per row).
 * Plain inserts are observed (subscribers get the values), so only listener-less ones are guarded.
 * Raw SQL (`manager.query`) is outside the ORM and not inspected: it is the deliberate, greppable
 * way of the seed and of migrations.
 */

type Scope = 'persistence' | 'cascade';
const writeScope = new AsyncLocalStorage<Scope>();

export class UnobservedWriteError extends Error {
  constructor(operation: string, table: string) {
    super(
      `${operation} on "${table}" bypasses the entity subscribers that keep its cascades and derived columns; ` +
        `use save/remove/softRemove/recover (or, inside a subscriber, cascadeWrites)`,
    );
    this.name = 'UnobservedWriteError';
  }
}

/**
 * The escape hatch: runs `fn` with the write guards lifted. Only entity subscribers call it, for
 * the set-based SQL of the cascades they own, on the manager of the event (so inside the caller's
 * transaction). Anything else that needs to write goes through the entity paths.
 */
export function cascadeWrites<T>(fn: () => Promise<T>): Promise<T> {
  return writeScope.run('cascade', fn);
}

const guardedTables = new Set<string>();
const guardedTargets = new Set<Function>();
let installed = false;

function tableOf(target: Function): string {
  const table = getMetadataArgsStorage().tables.find((t) => t.target === target);
  if (!table?.name) throw new Error(`installWriteGuards: ${target.name} is not an entity with a table name`);
  return table.name;
}

interface GuardableBuilder {
  expressionMap: {
    mainAlias?: { hasMetadata: boolean; metadata: { target: unknown; tableName: string }; tablePath?: string };
    callListeners: boolean;
    onUpdate?: unknown;
    onConflict?: string;
    queryType: string;
  };
}

/** The guarded table a builder writes to, or undefined. */
function guardedTable(builder: GuardableBuilder): string | undefined {
  const alias = builder.expressionMap.mainAlias;
  if (!alias) return undefined;
  if (alias.hasMetadata) {
    const { target, tableName } = alias.metadata;
    return guardedTargets.has(target as Function) || guardedTables.has(tableName) ? tableName : undefined;
  }
  const name = (alias.tablePath ?? '').replace(/"/g, '').split('.').pop() ?? '';
  return guardedTables.has(name) ? name : undefined;
}

function check(builder: GuardableBuilder, operation: string): void {
  const table = guardedTable(builder);
  if (!table) return;
  const scope = writeScope.getStore();
  if (scope === 'cascade') return;
  // TypeORM's persistence builds its statements with listeners off and broadcasts itself.
  if (scope === 'persistence' && builder.expressionMap.callListeners === false) return;
  throw new UnobservedWriteError(operation, table);
}

function wrapExecute(proto: { execute: (...args: any[]) => Promise<any> }, operationOf: (builder: GuardableBuilder) => string | undefined) {
  const original = proto.execute;
  proto.execute = function guardedExecute(this: GuardableBuilder, ...args: unknown[]) {
    const operation = operationOf(this);
    if (operation) {
      try {
        check(this, operation);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return original.apply(this, args);
  };
}

/**
 * Installs the guards for the given entities (idempotent; later calls add entities). Called once
 * from the entity registry, so every DataSource built from it is guarded.
 */
export function installWriteGuards(entities: Function[]): void {
  for (const entity of entities) {
    guardedTargets.add(entity);
    guardedTables.add(tableOf(entity));
  }
  if (installed) return;
  installed = true;

  const persist = EntityPersistExecutor.prototype as { execute: (...args: any[]) => Promise<any> };
  const persistExecute = persist.execute;
  persist.execute = function (this: unknown, ...args: unknown[]) {
    return writeScope.run(writeScope.getStore() === 'cascade' ? 'cascade' : 'persistence', () => persistExecute.apply(this, args));
  };

  // `clear` is a TRUNCATE: no builder, no events, and no cascade at all.
  const manager = EntityManager.prototype as { clear: (target: EntityTarget<ObjectLiteral>) => Promise<void> };
  const clear = manager.clear;
  manager.clear = function (this: EntityManager, target: EntityTarget<ObjectLiteral>) {
    const { tableName } = this.connection.getMetadata(target);
    if (guardedTables.has(tableName) && writeScope.getStore() !== 'cascade') {
      return Promise.reject(new UnobservedWriteError('clear', tableName));
    }
    return clear.call(this, target);
  };

  wrapExecute(UpdateQueryBuilder.prototype as any, () => 'update');
  wrapExecute(DeleteQueryBuilder.prototype as any, () => 'delete');
  wrapExecute(SoftDeleteQueryBuilder.prototype as any, (b) => (b.expressionMap.queryType === 'restore' ? 'restore' : 'softDelete'));
  wrapExecute(InsertQueryBuilder.prototype as any, (b) => {
    const map = b.expressionMap;
    if (map.onUpdate || (map.onConflict && /do\s+update/i.test(map.onConflict))) return 'upsert';
    return map.callListeners === false ? 'insert without listeners' : undefined;
  });
}
