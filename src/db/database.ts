import { DataSource } from 'typeorm';
import { Config } from '../config';
import { Logger } from '../logger';
import { DataModel, modelDataSourceOptions } from './data-source';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded';

/** An open database: the DataSource, and the embedded cluster when this process runs one. */
export interface Database {
  dataSource: DataSource;
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

/**
 * Connects to `DATABASE_URL`, or starts the embedded PostgreSQL under the data dir when it is
 * unset, with a DataSource mapping `model` (ormconfig's DATA_MODEL). `close()` ends the pool and
 * stops an embedded cluster.
 */
export async function openDatabase(
  model: DataModel,
  config: Config,
  logger: Logger,
  options: { poolSize?: number; statementTimeoutMs?: number } = {},
): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, (message) => logger.info(message));
  const dataSource = new DataSource(
    modelDataSourceOptions(model, {
      url: config.databaseUrl ?? embedded!.url,
      poolSize: options.poolSize,
      statementTimeoutMs: options.statementTimeoutMs,
      preparedStatements: config.preparedStatements,
      onProblem: (message) => logger.warn(message),
    }),
  );
  try {
    await dataSource.initialize();
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    embedded,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
