import http from 'node:http';
import express from 'express';
import { ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import { DataSource } from 'typeorm';
import { AuthenticateRequest, Authenticated } from './auth/authenticate-request';
import { Viewer } from './auth/viewer';
import { Config } from './config';
import { Context, createContext } from './context';
import { SharedReads } from './db/viewer-keys';
import { ReadReplicas, ReadRoute } from './db/replicas';
import { formatError } from './errors.format';
import { clientNameForLog } from './common/client-names';
import { CLIENT_LEFT } from './http/client-errors';
import { Metrics } from './http/metrics';
import { OperationGuard } from './http/operation-guard';
import { RequesterLimits, TurnLimit, viewerKey } from './limits/requester-limits';
import { LiveHub } from './live/hub';
import { createLiveMetrics } from './live/metrics';
import { ReplayGate } from './live/replay-gate';
import { attachLiveTransports } from './live/transports';
import { createLoaders } from './loaders';
import { Logger } from './logger';
import { messageChangedFeed } from './messages/message-changed.feed';
import { messageAddedFeed } from './messages/message.feed';
import { sessionChangedFeed } from './sessions/session.feed';
import { AudioStorage } from './storage/audio-storage';
import { UserModel } from './users/user.rows';

export interface LiveDeps {
  httpServer: http.Server;
  app: express.Express;
  sseMiddleware: express.RequestHandler[];
  schema: GraphQLSchema;
  dataSource: DataSource;
  config: Config;
  storage: AudioStorage;
  logger: Logger;
  metrics: Metrics;
  /** The checks POST /graphql runs (limits, cost, new-document budget, trusted documents). */
  guard: OperationGuard;
  /** Per-viewer and per-address bounds (src/limits/): connections, subscriptions, replays. */
  limits: RequesterLimits;
  /** The authentication of every transport (auth/authenticate-request.ts). */
  authenticate: AuthenticateRequest<UserModel>;
  /** Whether a request's Origin may open a live connection: the CORS list. */
  originAllowed(req: http.IncomingMessage): boolean;
  replicas?: ReadReplicas;
  onLiveBatch?: (stats: { events: number; statements: number; subscribers: number }) => void;
}

/** The live listener's own session: HUB_DIRECT_DATABASE_URL (a pooler would lose LISTEN), else
 * the connection string of the server's pool. */
function connectionStringOf(dataSource: DataSource, config: Config): string {
  const url = config.directDatabaseUrl ?? (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('the live listener needs the DataSource url');
  return url;
}

/**
 * Live updates wired into the server: the hub with this API's feeds (`sessionChanged`,
 * `messageAdded`, `messageChanged`), a resolver context per viewer built like a request's, and both transports.
 */
export function attachLive(deps: LiveDeps) {
  const { dataSource, config, logger } = deps;
  const format = formatError(logger, { production: config.production });
  const formatOne = (error: GraphQLError) => format(error.toJSON(), error);
  const liveMetrics = createLiveMetrics(deps.metrics.registry);
  // Event batches resolve for a viewer group (all admins share one), not for a request's user.
  // A batch's groups read through one SharedReads, so their by-id and relation reads go out
  // together (src/db/viewer-keys.ts); a replay reads alone.
  const contextFor = (viewer: Viewer, batch?: unknown): Context => ({
    viewer,
    dataSource,
    config,
    storage: deps.storage,
    logger,
    limits: deps.limits,
    loaders: createLoaders(dataSource, viewer, config, batch as SharedReads | undefined),
  });

  // A few `messageAdded(after:)` replays per viewer at once; the line stands still this long only
  // when the viewer's replays are held by readers that stopped reading.
  const replayTurns: TurnLimit = {
    variable: 'HUB_LIVE_MAX_REPLAYS_PER_VIEWER',
    max: config.live.maxReplaysPerViewer,
    waitMs: config.live.stallTimeoutMs,
    what: 'live replays (messageAdded with after)',
    reason: 'LIVE_REPLAYS_BUSY',
  };
  const hub = new LiveHub({
    schema: deps.schema,
    feeds: [sessionChangedFeed, messageAddedFeed, messageChangedFeed],
    connectionString: connectionStringOf(dataSource, config),
    contextFor,
    batchReads: () => new SharedReads(),
    formatResult: ({ errors, ...result }: ExecutionResult) => (errors ? { ...result, errors: errors.map((e) => formatOne(e)) } : result),
    batchMs: config.live.batchMs,
    maxSubscriptionsPerViewer: config.live.maxSubscriptionsPerViewer,
    reconnectMaxMs: config.live.reconnectMaxMs,
    flow: {
      maxBufferBytes: config.live.maxBufferBytes,
      stallTimeoutMs: config.live.stallTimeoutMs,
      gate: new ReplayGate(config.live.replayConcurrency, config.live.replayQueue),
      replayTurn: (viewerId) => deps.limits.turn(replayTurns, viewerKey(viewerId)),
    },
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
    holds: deps.limits,
    originAllowed: deps.originAllowed,
    authenticate: deps.authenticate,
    // A subscription's context is a request's (createContext): the viewer's row primes
    // `userById`, and with replicas its reads follow the same route (here without x-hub-lsn).
    createContext: (auth: Authenticated<UserModel>, live) => {
      const reads = deps.replicas ? new ReadRoute(deps.replicas, auth.user.id, 0n) : undefined;
      return { ...createContext(dataSource, config, deps.storage, logger, deps.limits, auth.user, reads), live };
    },
    formatError: formatOne,
    onOperation({ operationName, started, codes, ...record }) {
      // The same label and log field as HTTP requests: a client's names are bounded (common/client-names.ts).
      const operation = deps.metrics.operationLabel(started, operationName);
      deps.metrics.requestDuration.observe({ operation }, record.durationMs / 1000);
      deps.metrics.sqlStatements.observe({ operation }, record.sql);
      for (const code of codes) deps.metrics.errors.inc({ code });
      logger.info({ ...record, operation: clientNameForLog(operationName), ...(codes.length ? { errors: codes } : {}) }, 'graphql subscription');
    },
    onClosed(record) {
      liveMetrics.closed.inc({ reason: record.reason.startsWith('protocol error') ? 'protocol error' : record.reason });
      logger.info(record, 'live connection closed by the server');
    },
    onClientLeft(record, busy) {
      if (busy) logger.info(record, CLIENT_LEFT);
      else logger.debug(record, CLIENT_LEFT);
    },
    onInternalError(error) {
      logger.error({ err: error }, 'live message handling failed');
    },
    metrics: liveMetrics,
  });
  return { hub, transports, close: () => transports.close() };
}
