import cluster, { Worker } from 'node:cluster';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import express from 'express';
import { DATA_MODEL } from '../../ormconfig';
import { jwtSecret } from '../auth/secret';
import { Config } from '../config';
import { openDatabase } from '../db/database';
import { metricsHandler, serveClusterMetrics } from '../http/metrics';
import { createLogger } from '../logger';
import { RestartBackoff } from './restart-backoff';
import { prepareDatabase, printBanner } from './prepare-database';
import { stopOnSignals } from './shutdown';
import { serverExecArgv } from './v8-flags';

/** How long SIGTERM waits for workers to drain before killing them. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * `hub serve --workers N`: this process is the cluster's primary. It owns what must happen once
 * (the secret, migrations, the demo seed, the embedded PostgreSQL, started before the workers
 * and stopped after them) and forks N workers that each serve the API on the one shared port
 * (node:cluster). A worker that dies is replaced after a delay that doubles with each crash of
 * its slot, up to 10 s, and starts over once a worker stayed up 30 s (RestartBackoff: a crash loop
 * does not spin); SIGTERM/SIGINT drain every worker (each
 * finishes its in-flight requests), then stop the database. /metrics on any worker, or on
 * HUB_METRICS_PORT served here, sums every worker's registry.
 */
export async function runCluster(config: Config, options: { migrate: boolean; workers: number }): Promise<void> {
  const logger = createLogger(undefined, !config.production && process.stdout.isTTY);
  const secret = await jwtSecret(config);
  const db = await openDatabase(DATA_MODEL, config, logger, { poolSize: 2 });
  let databaseUrl: string;
  try {
    await prepareDatabase(db, options.migrate, logger);
    databaseUrl = config.databaseUrl ?? db.embedded!.url;
  } catch (error) {
    await db.close();
    throw error;
  }

  const aggregator = serveClusterMetrics();
  let metricsServer: http.Server | undefined;
  if (config.scale.metricsPort !== undefined) {
    const app = express().get('/metrics', metricsHandler(() => aggregator.clusterMetrics(), aggregator.contentType, config.scale.metricsToken));
    metricsServer = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      metricsServer!.once('error', reject);
      metricsServer!.listen(config.scale.metricsPort, config.host, () => resolve());
    });
    logger.info({ port: (metricsServer.address() as AddressInfo).port }, 'metrics served on their own port');
  }

  const { stopping } = stopOnSignals(logger, 'shutting down: draining every worker', async () => {
    metricsServer?.close();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const timer = setTimeout(() => worker.process.kill('SIGKILL'), DRAIN_TIMEOUT_MS);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await db.close();
  });

  // Workers get the database the primary prepared and the one secret, so none creates another.
  const workerEnv = { DATABASE_URL: databaseUrl, HUB_JWT_SECRET: secret };
  const backoff = new RestartBackoff();
  // Workers serve: they get the V8 settings a server needs, however the primary was started.
  cluster.setupPrimary({ execArgv: serverExecArgv() });
  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ ...workerEnv, HUB_WORKER_SLOT: String(slot) });
    const started = Date.now();
    worker.on('exit', (code, signal) => {
      if (stopping()) return;
      const upMs = Date.now() - started;
      const delay = backoff.delayFor(slot, upMs);
      logger.error({ worker: worker.process.pid, slot, code, signal, upMs, restartInMs: delay }, 'worker exited; restarting it');
      setTimeout(() => {
        if (!stopping()) fork(slot);
      }, delay);
    });
    return worker;
  };

  let listening = 0;
  let announced = false;
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (announced || listening < options.workers) return;
    announced = true;
    const host = address.address ?? config.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    logger.info({ workers: options.workers }, 'all workers listening');
    void printBanner(db, config, secret, url).finally(() => db.dataSource.destroy().catch(() => undefined));
  });
  for (let slot = 0; slot < options.workers; slot += 1) fork(slot);
}
