import { DataSource } from 'typeorm';
import { Config } from '../config';
import { Logger } from '../logger';
import { DataModel, modelDataSourceOptions, sessionSettings } from './data-source';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded';
import { explainStartupRefusal, namedStatementsSurvive, sessionSettingMismatches } from './pooler';
import { POOL_SIZE } from './pool-size';
import { poolOf } from './typeorm-internals';

/** An open database: the DataSource, and the embedded cluster when this process runs one. */
export interface Database {
  dataSource: DataSource;
  embedded?: EmbeddedPostgres;
  /** A session of its own (LISTEN, migrations and their advisory lock): HUB_DIRECT_DATABASE_URL,
   * or the pool's URL when there is no pooler. */
  directUrl: string;
  /** Whether the pool goes through a pooler (HUB_DIRECT_DATABASE_URL differs from DATABASE_URL). */
  pooled: boolean;
  /** A DataSource on `directUrl` for migrations: the pool's own without a pooler; else opened on
   * first use and closed with the database. */
  direct(): Promise<DataSource>;
  close(): Promise<void>;
}

export class SessionSettingsError extends Error {}

/**
 * Connects to `DATABASE_URL`, or starts the embedded PostgreSQL under the data dir when it is
 * unset, with a DataSource mapping `model` (ormconfig's DATA_MODEL). `close()` ends the pool and
 * stops an embedded cluster.
 *
 * Behind a pooler (HUB_DIRECT_DATABASE_URL set and different) the pool sends no startup options;
 * the settings the server gives it are verified (a wrong statement_timeout or TimeZone is logged
 * as an error, and refused in production unless HUB_ALLOW_SESSION_SETTINGS_MISMATCH=true), and
 * named statements are used only if the pooler keeps them (src/db/pooler.ts).
 */
export async function openDatabase(
  model: DataModel,
  config: Config,
  logger: Logger,
  options: { poolSize?: number; poolMin?: number; statementTimeoutMs?: number } = {},
): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, (message) => logger.info(message), { port: config.embeddedPgPort });
  const url = config.databaseUrl ?? embedded!.url;
  const directUrl = config.directDatabaseUrl ?? url;
  const pooled = directUrl !== url;
  const poolMin = Math.min(options.poolMin ?? 0, options.poolSize ?? POOL_SIZE);
  let preparedStatements = config.preparedStatements;
  let dataSource: DataSource | undefined;
  let direct: Promise<DataSource> | undefined;
  try {
    if (pooled && preparedStatements && !(await namedStatementsSurvive(url))) {
      preparedStatements = false;
      logger.error(
        'DATABASE_URL is a pooler that loses named prepared statements between transactions (PgBouncer before 1.21, ' +
          'or without max_prepared_statements): this process runs every statement unnamed. Set HUB_PREPARED_STATEMENTS=false ' +
          'to say so, or max_prepared_statements in PgBouncer >= 1.21 to keep them.',
      );
    }
    dataSource = new DataSource(
      modelDataSourceOptions(model, {
        url,
        poolSize: options.poolSize,
        poolMin,
        statementTimeoutMs: options.statementTimeoutMs,
        preparedStatements,
        startupOptions: !pooled,
        onProblem: (message) => logger.warn(message),
      }),
    );
    await dataSource.initialize().catch((error) => {
      throw explainStartupRefusal(error) ?? error;
    });
    // Also on the direct path (one query at start): a pooler with ignore_startup_parameters=options
    // takes the options and drops them, silently, unless they are checked.
    await verifySessionSettings(dataSource, config, options.statementTimeoutMs, logger);
    await openConnections(dataSource, poolMin);
  } catch (error) {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  const pool = dataSource;
  return {
    dataSource: pool,
    embedded,
    directUrl,
    pooled,
    direct() {
      if (!pooled) return Promise.resolve(pool);
      direct ??= new DataSource(
        modelDataSourceOptions(model, { url: directUrl, poolSize: 2, onProblem: (message) => logger.warn(message), applicationName: 'hub-session-graph-direct' }),
      ).initialize();
      return direct;
    },
    async close() {
      if (pool.isInitialized) await pool.destroy();
      const opened = await direct?.catch(() => undefined);
      if (opened?.isInitialized) await opened.destroy();
      await embedded?.stop();
    },
  };
}

/**
 * Opens the pool's first `count` connections now, before the process reports ready, instead of
 * on its first requests: a process started under load (a deploy, a worker replacing one) otherwise
 * opened them all at once in its first second, each paying the connection's start (a backend, and
 * SCRAM's key derivation on both sides) while requests queued behind it. The pool keeps them
 * (`poolMin`): it no longer closes them after 10 s idle to open them again at the next burst.
 */
async function openConnections(dataSource: DataSource, count: number): Promise<void> {
  const pool = poolOf(dataSource);
  if (!pool || count === 0) return;
  const opened = await Promise.allSettled(Array.from({ length: count }, () => pool.connect()));
  for (const result of opened) if (result.status === 'fulfilled') result.value.release();
  const failed = opened.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The settings a pooled connection has: ours, or said loudly (and refused in production, where
 * a runaway statement would run unbounded or activity buckets would shift). */
async function verifySessionSettings(dataSource: DataSource, config: Config, statementTimeoutMs: number | undefined, logger: Logger): Promise<void> {
  const expected = sessionSettings(statementTimeoutMs);
  const { mismatches, advice } = await sessionSettingMismatches(dataSource, expected);
  if (mismatches.length === 0) return;
  const listed = mismatches.map((m) => `${m.name} is ${m.actual || 'unset'}, not ${m.expected}`).join('; ');
  const message = `the database connections do not have our session settings (${listed}; DATABASE_URL is a pooler that drops startup options?): ${advice}`;
  const essential = mismatches.some((m) => m.essential);
  if (essential && config.production && !config.allowSessionSettingsMismatch) {
    throw new SessionSettingsError(`${message}. Refusing to serve in production; HUB_ALLOW_SESSION_SETTINGS_MISMATCH=true serves anyway.`);
  }
  logger[essential ? 'error' : 'warn']({ mismatches }, message);
}
