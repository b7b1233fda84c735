import { DataSource, DataSourceOptions } from 'typeorm';
import { POOL_SIZE } from './pool-size';
import { PreparingClient } from './prepared-statements';
import { CountingLogger } from './sql-counter';

/** What a DataSource maps: ormconfig.ts lists every feature's entities, subscribers and
 * migrations (the composition root), so src/db takes the model and names none of them. */
export interface DataModel {
  entities: Function[];
  subscribers: Function[];
  migrations: Function[];
}

export interface DataSourceSettings {
  url: string;
  /** Connections in the pool (default POOL_SIZE). */
  poolSize?: number;
  /** Connections the pool keeps open while idle (default 0: each closes after 10 s idle). */
  poolMin?: number;
  /** Reports failed statements and TypeORM warnings (the server passes its logger). */
  onProblem?: (message: string) => void;
  applicationName?: string;
  /** Cancels any statement running longer (the server sets it; bulk CLI work does not). */
  statementTimeoutMs?: number;
  /** Named prepared statements (default on; off behind PgBouncer in transaction mode before 1.21). */
  preparedStatements?: boolean;
  /** Send the session settings (`SESSION_SETTINGS`) as the startup packet's `options` (default on):
   * free on a direct connection. A transaction-mode pooler refuses the parameter, so behind one
   * this is off and src/db/pooler.ts verifies the settings the server applies instead. */
  startupOptions?: boolean;
}

/**
 * The session settings every pooled connection runs with. timezone UTC: date_trunc buckets
 * (activity) and text casts of timestamptz are UTC whatever the server's default.
 * random_page_cost 1.1 (PostgreSQL's default is 4, a spinning disk's): the hub's hot rows are in
 * memory, and at 4 the planner hashed the whole skills table once per listed session rather than
 * probing its primary key for a session's few links (10x data set: the 100-session page statement
 * 6.7 -> 4.5 ms of PostgreSQL CPU).
 */
export function sessionSettings(statementTimeoutMs?: number): Record<string, string> {
  return {
    timezone: 'UTC',
    random_page_cost: '1.1',
    ...(statementTimeoutMs ? { statement_timeout: String(statementTimeoutMs) } : {}),
  };
}

/** The one DataSource configuration: the model listed explicitly, `synchronize` off (the schema
 * only changes through migrations). */
export function modelDataSourceOptions(model: DataModel, settings: DataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: model.entities,
    subscribers: model.subscribers,
    migrations: model.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: false,
    logger: new CountingLogger(settings.onProblem),
    applicationName: settings.applicationName ?? 'hub-session-graph',
    poolSize: settings.poolSize ?? POOL_SIZE,
    extra: {
      // Never wait forever for a connection or a statement.
      connectionTimeoutMillis: 5000,
      min: settings.poolMin ?? 0,
      // Each distinct statement parsed and planned once per connection (src/db/prepared-statements.ts).
      Client: PreparingClient,
      preparedStatements: settings.preparedStatements !== false,
      ...(settings.startupOptions === false
        ? {}
        : { options: Object.entries(sessionSettings(settings.statementTimeoutMs)).map(([name, value]) => `-c ${name}=${value}`).join(' ') }),
    },
  };
}

/** The model an open DataSource maps: a replica's pool maps the same as its primary's. */
export function dataModelOf(dataSource: DataSource): DataModel {
  const { entities, subscribers, migrations } = dataSource.options;
  return { entities: entities as Function[], subscribers: subscribers as Function[], migrations: migrations as Function[] };
}
