import { poolOf } from '../db/typeorm-internals';
import cluster from 'node:cluster';
import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { collectProcessMetrics } from './process-metrics';
import { clientNameLabels } from '../common/client-names';

/** A connection pool to report: the primary's and each read replica's. */
export interface NamedPool {
  name: string;
  dataSource: DataSource;
}

/** The operation label's bounds (src/common/client-names.ts), under the names the tests know. */
export { MAX_NAME_LABELS as MAX_OPERATION_LABELS, MAX_NAME_LENGTH as MAX_OPERATION_LABEL_LENGTH } from '../common/client-names';

/** The server's Prometheus metrics, in a registry of its own (one per server instance);
 * `stop()` (the server's close) ends the process metrics' GC observer. */
export function createMetrics(primary: DataSource, replicaPools: () => NamedPool[] = () => []) {
  const registry = new Registry();
  const processMetrics = collectProcessMetrics(registry, 'hub_');
  const registers = [registry];
  return {
    registry,
    /** The `operation` label of a request on any transport: `operationLabel(executed, operationName)`. */
    operationLabel: clientNameLabels(),
    stop: processMetrics.stop,
    requestDuration: new Histogram({
      name: 'hub_graphql_request_duration_seconds',
      help: 'GraphQL request duration by operation name (executed operations; bounded, see README)',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    errors: new Counter({
      name: 'hub_graphql_errors_total',
      help: 'GraphQL errors returned, by extensions.code',
      labelNames: ['code'],
      registers,
    }),
    sqlStatements: new Histogram({
      name: 'hub_graphql_sql_statements',
      help: 'SQL statements issued per GraphQL request, by operation name',
      labelNames: ['operation'],
      buckets: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50, 100],
      registers,
    }),
    limitRefusals: new Counter({
      name: 'hub_limit_refusals_total',
      help: 'Requests refused because one requester reached a limit, by the variable that sets it (src/limits/)',
      labelNames: ['limit'],
      registers,
    }),
    documentWork: new Counter({
      name: 'hub_graphql_document_work_total',
      help: 'Documents found parsed and validated (step="cached"), and the work done on the others: parse, validate, compile, cost',
      labelNames: ['step'],
      registers,
    }),
    batchSize: new Histogram({
      name: 'hub_dataloader_batch_size',
      help: 'Keys per DataLoader batch, by loader',
      labelNames: ['loader'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    }),
    pool: new Gauge({
      name: 'hub_db_pool_connections',
      help: 'Database pool connections by pool (primary, replica-N) and state (total, idle, waiting)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        for (const { name, dataSource } of [{ name: 'primary', dataSource: primary }, ...replicaPools()]) {
          const pool = poolOf(dataSource);
          if (!pool) continue;
          this.set({ pool: name, state: 'total' }, pool.totalCount);
          this.set({ pool: name, state: 'idle' }, pool.idleCount);
          this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
        }
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const METRICS_REQUEST = 'hub:metrics-request';
const METRICS_RESPONSE = 'hub:metrics-response';

/**
 * In a cluster worker: makes this registry the one the primary aggregates, and returns how a
 * worker answers /metrics for the whole server (it asks the primary, which gathers every
 * worker's registry with prom-client's AggregatorRegistry).
 */
export function joinClusterMetrics(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // registers the worker's listener for the primary's requests
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<number, (text: string | Error) => void>();
  process.on('message', (message: { type?: string; id?: number; text?: string; error?: string }) => {
    if (message?.type !== METRICS_RESPONSE || message.id === undefined) return;
    pending.get(message.id)?.(message.error ? new Error(message.error) : (message.text ?? ''));
    pending.delete(message.id);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer for metrics'));
      }, 10_000);
      pending.set(id, (result) => {
        clearTimeout(timer);
        if (result instanceof Error) reject(result);
        else resolve(result);
      });
      process.send!({ type: METRICS_REQUEST, id });
    });
}

/** In the cluster primary: answers workers' /metrics requests with every worker's metrics summed. */
export function serveClusterMetrics() {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
      (error: Error) => worker.isConnected() && worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
    );
  });
  return aggregator;
}

/**
 * The /metrics handler. With `token`, a request must carry `Authorization: Bearer <token>`
 * (compared in constant time). `text` produces the exposition (this process's registry, or
 * the cluster's).
 */
export function metricsHandler(text: () => Promise<string>, contentType: string, token?: string): express.RequestHandler {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return async (req, res) => {
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.status(401).setHeader('www-authenticate', 'Bearer realm="metrics"');
        res.json({ errors: [{ message: 'metrics need the metrics bearer token', extensions: { code: 'UNAUTHENTICATED' } }] });
        return;
      }
    }
    try {
      const body = await text();
      res.setHeader('content-type', contentType);
      res.send(body);
    } catch (error) {
      res.status(503).json({ errors: [{ message: 'metrics are unavailable right now', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    }
  };
}
