import { AsyncLocalStorage } from 'node:async_hooks';
import { EntityManager, EntityTarget, getMetadataArgsStorage, ObjectLiteral } from 'typeorm';
import { BuilderState, PATCHABLE, patchInternal } from './typeorm-internals';

/**
 * Write guards. Entity subscribers own the cascades and derived columns of the data model, but
 * TypeORM hands them entities only from `save`, `remove`, `softRemove` and `recover`. The other
 * write paths (`update`, `delete`, `softDelete`, `restore`, `increment`, `upsert`, `clear` and
 * their QueryBuilder forms, on a Repository or an EntityManager) give subscribers nothing, not even an
 * id, so on a guarded entity they would silently leave orphans or stale derived columns. For the
 * guarded tables those paths throw an `UnobservedWriteError` instead.
 *
 * How: every update, delete, soft-delete/restore, upsert and listener-less insert QueryBuilder
 * `execute()` on a guarded table is checked. It may run only
 *  - when TypeORM's persistence executor builds it: the statements of `save`/`remove`/
 *    `softRemove`/`recover` themselves (SubjectExecutor's insert, update, remove, soft-remove and
 *    recover steps), whose events TypeORM broadcasts itself. Code running *around* those steps
 *    (a subscriber reacting to an event, a service inside its transaction) is not trusted for it;
 *  - inside `cascadeWrites(…)`, the scoped hatch through which the named set-based functions of
 *    src/consistency/cascades.ts run (so deleting 100 users is a handful of statements).
 * Raw SQL (`manager.query`) is the deliberate, greppable way of the seed, migrations and the
 * cascades, and outside subscribers it is not inspected. Inside a subscriber's event, though, a
 * raw INSERT/UPDATE/DELETE on a guarded table is refused too unless it runs through the hatch:
 * every cross-entity write is one of the named cascades.
 */

type Scope = 'executor' | 'event' | 'cascade' | 'builder';
const writeScope = new AsyncLocalStorage<Scope>();

export class UnobservedWriteError extends Error {
  constructor(operation: string, table: string) {
    super(
      `${operation} on "${table}" bypasses the entity subscribers that keep its cascades and derived columns; ` +
        `use save/remove/softRemove/recover (or, for a cross-entity effect, a named function of src/consistency/cascades.ts)`,
    );
    this.name = 'UnobservedWriteError';
  }
}

/**
 * The scoped hatch: runs `fn` with the write guards lifted. Only the named cascade functions
 * (src/consistency/cascades.ts) call it, on the manager of the caller's transaction.
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

type GuardableBuilder = BuilderState;

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
  // The persistence executor's own statements: listeners off, because it broadcasts itself.
  if (scope === 'executor' && builder.expressionMap.callListeners === false) return;
  throw new UnobservedWriteError(operation, table);
}

type BuilderOwner = 'UpdateQueryBuilder' | 'DeleteQueryBuilder' | 'SoftDeleteQueryBuilder' | 'InsertQueryBuilder';

function wrapExecute(owner: BuilderOwner, operationOf: (builder: GuardableBuilder) => string | undefined) {
  patchInternal(owner, 'execute', (original) =>
    function guardedExecute(this: GuardableBuilder, ...args: unknown[]) {
      const operation = operationOf(this);
      if (operation) {
        try {
          check(this, operation);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      // A checked builder's SQL is not raw SQL (see the query wrapper below).
      const scope = writeScope.getStore();
      return scope === 'event' ? writeScope.run('builder', () => original.apply(this, args)) : original.apply(this, args);
    },
  );
}

const RAW_WRITE = /\b(?:UPDATE|DELETE\s+FROM|INSERT\s+INTO|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?(?:"?\w+"?\.)?"?(\w+)"?/gi;

/** The guarded table a raw statement writes to, or undefined. */
function rawWriteTable(sql: string): string | undefined {
  for (const match of sql.matchAll(RAW_WRITE)) if (guardedTables.has(match[1])) return match[1];
  return undefined;
}

/** Runs `member` of `owner` in `scope` (the hooks it calls, and what they await, see that scope). */
function inScope(owner: 'SubjectExecutor' | 'Broadcaster', member: string, scope: Scope): void {
  patchInternal(owner, member, (original) =>
    function (this: unknown, ...args: unknown[]) {
      return writeScope.run(scope, () => original.apply(this, args));
    },
  );
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

  for (const step of Object.keys(PATCHABLE.SubjectExecutor.members)) inScope('SubjectExecutor', step, 'executor');
  // Subscribers' hooks are called synchronously from these; their async work keeps the scope.
  for (const method of Object.keys(PATCHABLE.Broadcaster.members)) inScope('Broadcaster', method, 'event');

  patchInternal('PostgresQueryRunner', 'query', (query) =>
    function (this: unknown, sql: string, ...rest: unknown[]) {
      if (writeScope.getStore() === 'event') {
        const table = rawWriteTable(sql);
        if (table) return Promise.reject(new UnobservedWriteError('raw SQL write inside a subscriber', table));
      }
      return query.call(this, sql, ...rest);
    },
  );

  // `clear` is a TRUNCATE: no builder, no events, and no cascade at all.
  patchInternal('EntityManager', 'clear', (clear) =>
    function (this: EntityManager, target: EntityTarget<ObjectLiteral>, ...rest: unknown[]) {
      const { tableName } = this.connection.getMetadata(target);
      if (guardedTables.has(tableName) && writeScope.getStore() !== 'cascade') {
        return Promise.reject(new UnobservedWriteError('clear', tableName));
      }
      return clear.call(this, target, ...rest);
    },
  );

  wrapExecute('UpdateQueryBuilder', () => 'update');
  wrapExecute('DeleteQueryBuilder', () => 'delete');
  wrapExecute('SoftDeleteQueryBuilder', (b) => (b.expressionMap.queryType === 'restore' ? 'restore' : 'softDelete'));
  wrapExecute('InsertQueryBuilder', (b) => {
    const map = b.expressionMap;
    if (map.onUpdate || (map.onConflict && /do\s+update/i.test(map.onConflict))) return 'upsert';
    return map.callListeners === false ? 'insert without listeners' : undefined;
  });
}
