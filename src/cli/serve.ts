import cluster from 'node:cluster';
import { DATA_MODEL } from '../../ormconfig';
import { jwtSecret } from '../auth/secret';
import { signToken } from '../auth/tokens';
import { Config } from '../config';
import { openDatabase } from '../db/database';
import { withMigrationLock } from '../db/migration-lock';
import { ReadReplicas } from '../db/replicas';
import { createLogger, Logger } from '../logger';
import { DEMO_SEED, seed } from '../seed/seed';
import { createServer } from '../server';
import { Role, User } from '../users/user.entity';
import { runCluster } from './cluster';
import { stopOnSignals } from './shutdown';
import { DataSource } from 'typeorm';

const DEV_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * `hub serve`: opens the database (embedded when DATABASE_URL is unset), migrates under the
 * migration lock, seeds the demo data on the embedded database's first start, serves, and on
 * SIGTERM/SIGINT stops accepting, finishes in-flight requests, closes the pools and stops the
 * embedded database. With `--workers N` (HUB_WORKERS) above 1 this process becomes the
 * cluster's primary (src/cli/cluster.ts) and each worker runs the serving part.
 */
export async function serve(config: Config, options: { migrate: boolean; workers?: number }): Promise<void> {
  const workers = options.workers ?? config.scale.workers;
  if (cluster.isPrimary && workers > 1) return runCluster(config, { migrate: options.migrate, workers });
  const worker = cluster.isWorker;
  const logger = createLogger(undefined, !config.production && process.stdout.isTTY);
  const secret = await jwtSecret(config);
  const db = await openDatabase(DATA_MODEL, config, logger, { statementTimeoutMs: config.statementTimeoutMs });
  const { dataSource } = db;
  let server;
  let replicas: ReadReplicas | undefined;
  try {
    // A worker's primary process has migrated and seeded before forking it.
    if (!worker) await prepareDatabase(dataSource, Boolean(db.embedded), options.migrate, logger);
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
    if (!worker) await printBanner(dataSource, config, secret, url);
  } catch (error) {
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

  const { stop } = stopOnSignals(logger, 'shutting down: finishing in-flight requests', async () => {
    await server.close();
    await replicas?.stop();
    await db.close();
  });
  // A worker whose primary is gone has no one to restart or stop it: it drains and leaves.
  if (worker) process.on('disconnect', () => void stop('primary gone'));
}

/** Migrations (under the advisory lock, so concurrent starts migrate once) and the demo seed. */
export async function prepareDatabase(dataSource: DataSource, embedded: boolean, migrate: boolean, logger: Logger): Promise<void> {
  if (migrate) {
    const ran = await withMigrationLock(dataSource, () => dataSource.runMigrations({ transaction: 'each' }));
    if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'applied migrations');
  }
  if (embedded && (await dataSource.getRepository(User).count()) === 0) {
    const result = await seed(dataSource, DEMO_SEED);
    logger.info(result, 'seeded the demo data set');
  }
}

export async function printBanner(dataSource: DataSource, config: Config, secret: string, url: string): Promise<void> {
  console.log(`\nHub Session Graph is serving ${url}/graphql`);
  if (config.production) return;
  const admin = await dataSource.getRepository(User).findOne({ where: { role: Role.ADMIN }, order: { createdAt: 'ASC' } });
  if (admin) {
    // No longer than HUB_MAX_TOKEN_TTL allows, or the server would refuse its own token.
    const ttl = Math.min(DEV_TOKEN_TTL_SECONDS, config.maxTokenTtlSeconds);
    const token = signToken(secret, admin.id, ttl);
    console.log(`Admin token (${admin.email}, valid ${Math.round(ttl / 360) / 10} h), send it as "Authorization: Bearer <token>":\n`);
    console.log(`${token}\n`);
    console.log(`Playground with the token filled in: ${url}/graphql?token=${token}\n`);
  } else {
    console.log('No admin user yet: create one with `hub user:create --email E --name N --role admin`.');
  }
}
