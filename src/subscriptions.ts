import http from 'node:http';
import express from 'express';
import { ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { authenticate, viewerOf } from './users/authenticate';
import { Config } from './config';
import { Context } from './context';
import { unavailable } from './errors';
import { formatError } from './errors.format';
import { Metrics } from './http/metrics';
import { OperationGuard } from './http/operation-guard';
import { LiveHub } from './live/hub';
import { createLiveMetrics } from './live/metrics';
import { attachLiveTransports, LiveAuth } from './live/transports';
import { createLoaders } from './loaders';
import { Logger } from './logger';
import { messageAddedFeed } from './messages/message.subscriptions';
import { sessionChangedFeed } from './sessions/session.subscriptions';
import { AudioStorage } from './storage/storage';

export interface LiveDeps {
  httpServer: http.Server;
  app: express.Express;
  sseMiddleware: express.RequestHandler[];
  schema: GraphQLSchema;
  dataSource: DataSource;
  config: Config;
  secret: string;
  storage: AudioStorage;
  logger: Logger;
  metrics: Metrics;
  /** The checks POST /graphql runs (limits, cost, new-document budget, trusted documents). */
  guard: OperationGuard;
  onLiveBatch?: (stats: { events: number; statements: number; subscribers: number }) => void;
}

/** The connection string of the server's pool, for the live listener's own connection. */
function connectionStringOf(dataSource: DataSource): string {
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('the live listener needs the DataSource url');
  return url;
}

/**
 * Live updates wired into the server: the hub with this API's feeds (`sessionChanged`,
 * `messageAdded`), a resolver context per viewer built like a request's, and both transports.
 */
export function attachLive(deps: LiveDeps) {
  const { dataSource, config, logger } = deps;
  const format = formatError(logger, { production: config.production });
  const formatOne = (error: GraphQLError) => format(error.toJSON(), error);
  const liveMetrics = createLiveMetrics(deps.metrics.registry);
  const contextFor = (viewer: Viewer): Context => ({
    viewer,
    dataSource,
    config,
    storage: deps.storage,
    loaders: createLoaders(dataSource, viewer, config),
  });

  const hub = new LiveHub({
    schema: deps.schema,
    feeds: [sessionChangedFeed, messageAddedFeed],
    connectionString: connectionStringOf(dataSource),
    contextFor: (viewer) => contextFor(viewer as Viewer),
    formatResult: (result: ExecutionResult) =>
      result.errors ? ({ ...result, errors: result.errors.map((e) => formatOne(e)) } as unknown as ExecutionResult) : result,
    batchMs: config.live.batchMs,
    maxSubscriptionsPerViewer: config.live.maxSubscriptionsPerViewer,
    reconnectMaxMs: config.live.reconnectMaxMs,
    metrics: liveMetrics,
    onProblem: (message, error) => logger.warn({ err: error }, message),
    onBatch: deps.onLiveBatch,
  });

  const transports = attachLiveTransports({
    httpServer: deps.httpServer,
    app: deps.app,
    sseMiddleware: deps.sseMiddleware,
    schema: deps.schema,
    hub,
    limits: config.live,
    operationLimits: { guard: deps.guard, maxQueryLength: 100_000 },
    async authenticate(authorization): Promise<LiveAuth> {
      const user = await authenticate(dataSource, deps.secret, authorization, config.maxTokenTtlSeconds).catch((error) => {
        if (error instanceof GraphQLError) throw error;
        logger.error({ err: error }, 'live authentication lookup failed');
        throw unavailable();
      });
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      const exp = (token && (jwt.decode(token) as { exp?: unknown } | null)?.exp) as number | undefined;
      return { viewer: viewerOf(user), expiresAt: typeof exp === 'number' ? exp * 1000 : undefined };
    },
    createContext: (auth, live) => ({ ...contextFor(auth.viewer as Viewer), live }),
    formatError: formatOne,
    onOperation(record) {
      deps.metrics.requestDuration.observe({ operation: record.operation }, record.durationMs / 1000);
      deps.metrics.sqlStatements.observe({ operation: record.operation }, record.sql);
      for (const code of record.codes) deps.metrics.errors.inc({ code });
      logger.info({ ...record, ...(record.codes.length ? { errors: record.codes } : {}), codes: undefined }, 'graphql subscription');
    },
    onClosed(record) {
      liveMetrics.closed.inc({ reason: record.reason.startsWith('protocol error') ? 'protocol error' : record.reason });
      logger.info(record, 'live connection closed by the server');
    },
    onInternalError(error) {
      logger.error({ err: error }, 'live message handling failed');
    },
    metrics: liveMetrics,
  });
  return { hub, transports, close: () => transports.close() };
}
