import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { CountingLogger } from './src/db/sql-counter';
import { ENTITIES, SUBSCRIBERS } from './src/db/registry';
import { MIGRATIONS } from './migrations';

export interface DataSourceSettings {
  url: string;
  /** Connections in the pool. */
  poolSize?: number;
  /** Reports failed statements and TypeORM warnings (the server passes its logger). */
  onProblem?: (message: string) => void;
  applicationName?: string;
  /** Cancels any statement running longer (the server sets it; bulk CLI work does not). */
  statementTimeoutMs?: number;
}

/** The one DataSource configuration: entities, subscribers and migrations listed explicitly,
 * `synchronize` off (the schema only changes through migrations). */
export function dataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: ENTITIES,
    subscribers: SUBSCRIBERS,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: false,
    logger: new CountingLogger(settings.onProblem),
    applicationName: settings.applicationName ?? 'hub-session-graph',
    poolSize: settings.poolSize ?? 10,
    extra: {
      // Never wait forever for a connection or a statement.
      connectionTimeoutMillis: 5000,
      options: `-c timezone=UTC${settings.statementTimeoutMs ? ` -c statement_timeout=${settings.statementTimeoutMs}` : ''}`,
    },
  };
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(dataSourceOptions(settings));
}

/** For the TypeORM CLI (`npx typeorm -d dist/ormconfig.js …`), which needs DATABASE_URL;
 * the `hub` CLI starts the embedded database itself when it is unset. */
export default createDataSource({ url: process.env.DATABASE_URL ?? 'postgres://localhost/hub' });
