import { Client, Pool } from 'pg';
import { DataSource, DeleteQueryBuilder, EntityManager, InsertQueryBuilder, ObjectLiteral, QueryRunner, UpdateQueryBuilder } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { EntityPersistExecutor } from 'typeorm/persistence/EntityPersistExecutor';
import { SubjectDatabaseEntityLoader } from 'typeorm/persistence/SubjectDatabaseEntityLoader';
import { SubjectExecutor } from 'typeorm/persistence/SubjectExecutor';
import { SoftDeleteQueryBuilder } from 'typeorm/query-builder/SoftDeleteQueryBuilder';
import { Broadcaster } from 'typeorm/subscriber/Broadcaster';

/**
 * The one module that reaches into TypeORM's and pg's internals: every method we replace is in
 * PATCHABLE (with the arity we call it with) and every private field we read has its accessor
 * here. Nothing else in src/ touches a prototype or a private member. test/typeorm-internals.test.ts
 * checks each against the installed versions, so an upgrade that renames, removes or reshapes one
 * fails there, not silently in a write guard or a held row.
 */

type Method = (this: any, ...args: any[]) => any; // the internals' own signatures, not ours to type

const PERSISTENCE_STEPS = ['executeInsertOperations', 'executeUpdateOperations', 'executeRemoveOperations', 'executeSoftRemoveOperations', 'executeRecoverOperations'] as const;
/** The entity events' broadcasts and their arity (TypeORM 0.3: result, metadata, entity, …). */
const ENTITY_EVENTS = {
  broadcastBeforeInsertEvent: 3,
  broadcastAfterInsertEvent: 4,
  broadcastBeforeUpdateEvent: 6,
  broadcastAfterUpdateEvent: 6,
  broadcastBeforeRemoveEvent: 5,
  broadcastAfterRemoveEvent: 5,
  broadcastBeforeSoftRemoveEvent: 5,
  broadcastAfterSoftRemoveEvent: 5,
  broadcastBeforeRecoverEvent: 5,
  broadcastAfterRecoverEvent: 5,
};

/** Every method patched, by owner: the prototype and its members with their arity (`length`). */
export const PATCHABLE = {
  /** The persistence executor's write steps (write guards: TypeORM's own statements). */
  SubjectExecutor: { proto: SubjectExecutor.prototype, members: Object.fromEntries(PERSISTENCE_STEPS.map((m) => [m, 0])) },
  /** The entity events' broadcasts (write guards: code run from a subscriber). */
  Broadcaster: { proto: Broadcaster.prototype, members: ENTITY_EVENTS },
  /** Every statement TypeORM runs on PostgreSQL (write guards: raw SQL inside a subscriber). */
  PostgresQueryRunner: { proto: PostgresQueryRunner.prototype, members: { query: 2 } },
  /** `clear` is a TRUNCATE without builder or events (write guards). */
  EntityManager: { proto: EntityManager.prototype, members: { clear: 2 } },
  UpdateQueryBuilder: { proto: UpdateQueryBuilder.prototype, members: { execute: 0 } },
  DeleteQueryBuilder: { proto: DeleteQueryBuilder.prototype, members: { execute: 0 } },
  SoftDeleteQueryBuilder: { proto: SoftDeleteQueryBuilder.prototype, members: { execute: 0 } },
  InsertQueryBuilder: { proto: InsertQueryBuilder.prototype, members: { execute: 0 } },
  /** Persistence reading the rows it is about to write (held rows: the snapshot instead). */
  SubjectDatabaseEntityLoader: { proto: SubjectDatabaseEntityLoader.prototype, members: { load: 1 } },
  /** `save`/`remove`/… as a whole (held rows: the snapshot follows what was written). */
  EntityPersistExecutor: { proto: EntityPersistExecutor.prototype, members: { execute: 0 } },
} satisfies Record<string, { proto: object; members: Record<string, number> }>;

type Owner = keyof typeof PATCHABLE;

/** Replaces `owner.prototype[member]` with `wrap(original)`. Throws if the member is not a function. */
export function patchInternal(owner: Owner, member: string, wrap: (original: Method) => Method): void {
  const { proto, members } = PATCHABLE[owner];
  if (!Object.keys(members).includes(member)) throw new Error(`${owner}.${member} is not listed in PATCHABLE`);
  const original: unknown = Reflect.get(proto, member);
  if (typeof original !== 'function') throw new Error(`TypeORM has no ${owner}.${member} to patch`);
  Reflect.set(proto, member, wrap(original as Method));
}

/** What a patched `SubjectDatabaseEntityLoader.load` reads of its instance. */
export interface EntityLoaderState {
  queryRunner: QueryRunner;
  subjects: { entity?: ObjectLiteral; databaseEntity?: ObjectLiteral; databaseEntityLoaded: boolean }[];
}

/** What a patched `EntityPersistExecutor.execute` reads of its instance. */
export interface PersistExecutorState {
  queryRunner?: QueryRunner;
  entity: ObjectLiteral | ObjectLiteral[];
}

/** What the write guards read of a query builder (its `expressionMap`, public but undocumented). */
export interface BuilderState {
  expressionMap: {
    mainAlias?: { hasMetadata: boolean; metadata: { target: unknown; tableName: string }; tablePath?: string };
    callListeners: boolean;
    onUpdate?: unknown;
    onConflict?: string;
    queryType: string;
  };
}

/** A query runner's savepoint depth (protected in BaseQueryRunner): 0 outside a transaction. */
export function transactionDepth(queryRunner: QueryRunner): number {
  if (!queryRunner.isTransactionActive) return 0;
  return (queryRunner as unknown as { transactionDepth: number }).transactionDepth; // protected member
}

/** The statements pg has parsed on this client's connection, by name (pg's own bookkeeping). */
export function parsedStatements(client: Client): Record<string, string> {
  return (client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements; // private member
}

/** The pg pool of a PostgreSQL data source (TypeORM's driver keeps it as `master`, typed `any`). */
export function poolOf(dataSource: DataSource): Pool | undefined {
  const { driver } = dataSource;
  if (!(driver instanceof PostgresDriver)) return undefined;
  const pool: Pool | undefined = driver.master;
  return pool;
}
