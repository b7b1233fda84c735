import cluster from 'node:cluster';
import { DATA_MODEL } from '../../ormconfig';
import { jwtSecret } from '../auth/secret';
import { Config } from '../config';
import { openDatabase } from '../db/database';
import { ReadReplicas } from '../db/replicas';
import { createLogger } from '../logger';
import { startStreamSweeper } from '../messages/fail-stale-streams';
import { createServer } from '../server';
import { runCluster } from './cluster';
import { prepareDatabase, printBanner } from './prepare-database';
import { stopOnSignals } from './shutdown';
import { isRelaunched, relaunchWithV8Flags } from './v8-flags';

/**
 * `hub serve`: opens the database (embedded when DATABASE_URL is unset), migrates under the
 * migration lock, seeds the demo data on the embedded database's first start, serves, and on
 * SIGTERM/SIGINT stops accepting, finishes in-flight requests, closes the pools and stops the
 * embedded database. With `--workers N` (HUB_WORKERS) above 1 this process becomes the
 * cluster's primary (src/cli/cluster.ts) and each worker runs the serving part. Either way the
 * serving processes run with the V8 settings of src/cli/v8-flags.ts.
 */
export async function serve(config: Config, options: { migrate: boolean; workers?: number }): Promise<void> {
  const workers = options.workers ?? config.scale.workers;
  if (cluster.isPrimary && workers > 1) return runCluster(config, { migrate: options.migrate, workers });
  const worker = cluster.isWorker;
  // Started without the V8 settings a server needs: the same command runs again with them.
  if (!worker && relaunchWithV8Flags()) return;
  const logger = createLogger(undefined, !config.production && process.stdout.isTTY);
  const secret = await jwtSecret(config);
  const db = await openDatabase(DATA_MODEL, config, logger, { poolMin: config.poolMin, statementTimeoutMs: config.statementTimeoutMs });
  const { dataSource } = db;
  let server: Awaited<ReturnType<typeof createServer>> | undefined;
  let replicas: ReadReplicas | undefined;
  let sweeper: ReturnType<typeof startStreamSweeper> | undefined;
  // Before the server listens: a SIGTERM that arrives as soon as it answers must drain it, not
  // kill it (Node's default), and one during start-up stops what has started.
  const { stop, stopping } = stopOnSignals(logger, 'shutting down: finishing in-flight requests', async () => {
    await sweeper?.stop();
    await server?.close();
    await replicas?.stop();
    await db.close();
  });
  // A worker whose primary is gone has no one to restart or stop it: it drains and leaves; so
  // does a relaunched server whose launcher died without forwarding a signal — also when it died
  // before this line (the channel is already closed, and no 'disconnect' would come).
  const orphaned = worker ? 'primary gone' : isRelaunched() ? 'launcher gone' : undefined;
  if (orphaned && !process.connected) void stop(orphaned);
  else if (orphaned) process.on('disconnect', () => void stop(orphaned));
  try {
    // A worker's primary process has migrated and seeded before forking it.
    if (!worker) await prepareDatabase(db, options.migrate, logger);
    if (config.scale.readReplicaUrls.length > 0) {
      replicas = new ReadReplicas(dataSource, {
        urls: config.scale.readReplicaUrls,
        waitMs: config.scale.replicaWaitMs,
        maxLagMs: config.scale.replicaMaxLagMs,
        statementTimeoutMs: config.statementTimeoutMs,
        preparedStatements: config.preparedStatements,
        logger,
      });
      await replicas.start();
    }
    server = await createServer({ dataSource, config, secret, logger, replicas, clusterWorker: worker });
    const url = await server.listen();
    if (!worker) await printBanner(db, config, secret, url);
  } catch (error) {
    // Stopped by a signal during start-up: the drain closes what started, and exits.
    if (stopping()) return;
    await server?.close().catch(() => undefined);
    await replicas?.stop();
    await db.close();
    if (worker) {
      // The IPC channel would keep a failed worker alive: exit, and let the primary decide.
      logger.error({ err: error }, 'worker failed to start');
      process.exit(1);
    }
    throw error;
  }

  // Streams left unfinished past HUB_STREAM_TIMEOUT become FAILED; every process sweeps (safe together).
  sweeper = startStreamSweeper({ dataSource, timeoutSeconds: config.streamTimeoutSeconds, logger });
}
