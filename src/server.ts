import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLError } from 'graphql';
import { DataSource } from 'typeorm';
import { authenticate } from './users/authenticate';
import { Config } from './config';
import { Context, createContext } from './context';
import { sqlScope, SqlStats } from './db/sql-counter';
import { unavailable } from './errors';
import { formatError, isDatabaseUnavailable } from './errors.format';
import { Logger } from './logger';
import { bodyErrors } from './http/body-errors';
import { answerClientErrors } from './http/client-errors';
import { DocumentStep } from './http/document-cache';
import { createOperationGuard } from './http/operation-guard';
import { loadTrustedDocuments, trustedDocumentsMiddleware } from './http/trusted-documents';
import { createMetrics, joinClusterMetrics, metricsHandler } from './http/metrics';
import { SharedApqCache } from './http/apq-cache';
import { readRoutingPlugin } from './http/read-routing';
import { LSN_HEADER, parseLsn, ReadReplicas, ReadRoute } from './db/replicas';
import { observabilityPlugin } from './http/observability';
import { PLAYGROUND_ASSETS_PATH, playgroundAssets, playgroundPlugin } from './http/playground';
import { resolvers, typeDefs } from './schema';
import { jitGateway } from './http/jit-executor';
import { uploadRouter } from './audio-uploads/receive-upload';
import { audioHandler } from './storage/audio-handler';
import { attachLive } from './subscriptions';
import { LIVE_DASHBOARD_PATH, liveDashboardAssets } from './live/dashboard-assets';
import { createAudioStorage } from './storage/storage';

export interface ServerDeps {
  dataSource: DataSource;
  config: Config;
  secret: string;
  logger: Logger;
  /** Tests: receives each GraphQL request's SQL statistics, statements included. */
  onRequestStats?: (stats: SqlStats) => void;
  /** Tests and the bench: the SQL statements of each live event batch. */
  onLiveBatch?: (stats: { events: number; statements: number; subscribers: number }) => void;
  /** Read replicas (HUB_READ_REPLICA_URLS), started by the caller; queries read from them. */
  replicas?: ReadReplicas;
  /** In a cluster worker: /metrics answers for the whole cluster (gathered by the primary process). */
  clusterWorker?: boolean;
}

export interface HubServer {
  app: express.Express;
  httpServer: http.Server;
  /** Listens on the port and host given (default: the config's); resolves with the bound URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, then stops Apollo. The caller closes the pool. */
  close(): Promise<void>;
  /** Live updates: the hub (tests read its LISTEN pid) and the transports. */
  live: ReturnType<typeof attachLive>;
  /** With HUB_METRICS_PORT: where /metrics is served, once listening. */
  metricsUrl?: string;
}

/** Reports the SQL statements a request issued in the `x-sql-statements` header. */
function sqlStatsPlugin(onRequestStats?: (stats: SqlStats) => void): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const stats = sqlScope.getStore();
          if (!stats) return;
          response.http.headers.set('x-sql-statements', String(stats.statements));
          onRequestStats?.(stats);
        },
      };
    },
  };
}

/**
 * Queries by GET may be cached by whatever sits in between: answers are per viewer, so they are
 * `private, no-store` unless something (a cache hint) already set the header. The cache-control
 * plugin stays disabled: it wraps every field resolver.
 */
function getCachePlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request }) {
      if (request.http?.method !== 'GET') return;
      return {
        async willSendResponse({ response }) {
          if (!response.http.headers.has('cache-control')) response.http.headers.set('cache-control', 'private, no-store');
        },
      };
    },
  };
}

/** A request that lost the database mid-way answers 503, like one whose auth lookup could not reach it. */
function unavailablePlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, response }) {
          if (errors.some((error) => isDatabaseUnavailable(error))) response.http.status = 503;
        },
      };
    },
  };
}

const BODY_LIMIT = '256kb';

function corsOrigin(origins: string[]): boolean | string[] {
  if (origins.includes('*')) return true;
  return origins.length ? origins : false;
}

/** A caller's request id is kept when it is a sane token, so logs can be correlated across services. */
function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
}

/** Builds the HTTP app and the Apollo server; `npm start` and the tests both use it. */
export async function createServer(deps: ServerDeps): Promise<HubServer> {
  const { dataSource, config, secret, logger } = deps;
  const storage = createAudioStorage(config, secret);
  const { replicas } = deps;
  const metrics = createMetrics(dataSource, () => replicas?.pools() ?? []);
  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers are per request and never revalidated; an ETag would hash every body.
  app.set('etag', false);
  // Graceful shutdown: once close() has begun, a request arriving on a still-open keep-alive
  // connection is refused before it runs (it could not be answered anyway), and close() waits
  // for every request that did start, so none is still in a transaction when the pool closes.
  let closing = false;
  let inFlight = 0;
  const idleWaiters: (() => void)[] = [];
  app.use((_req, res, next) => {
    if (closing) {
      res.setHeader('connection', 'close');
      res.status(503).json({ errors: [{ message: 'The server is shutting down; try again shortly', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      return;
    }
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) idleWaiters.splice(0).forEach((resolve) => resolve());
    });
    next();
  });
  const httpServer = http.createServer(app);
  answerClientErrors(httpServer);

  const schema = makeExecutableSchema({ typeDefs: typeDefs(), resolvers: resolvers() });
  // Query limits, cost, trusted documents: one set of checks for every transport (operation-guard.ts).
  const countStep = (step: DocumentStep) => metrics.documentWork.inc({ step });
  const guard = createOperationGuard(schema, config, loadTrustedDocuments(config.trustedDocuments, config.trustedDocumentsFile), countStep);
  const apollo = new ApolloServer<Context>({
    // The schema Apollo would build from typeDefs + resolvers, executed with graphql-jit (see jit-executor.ts).
    gateway: jitGateway(schema, countStep),
    formatError: formatError(logger, { production: config.production }),
    includeStacktraceInErrorResponses: false,
    introspection: config.introspection,
    parseOptions: guard.apollo.parseOptions,
    validationRules: guard.apollo.validationRules,
    documentStore: guard.apollo.documentStore,
    // Automatic persisted queries are a cache any client fills, not an allowlist. Shared by every
    // process (a table on the primary), so a hash registered on one is found on all.
    persistedQueries: config.trustedDocuments === 'require' ? false : { cache: new SharedApqCache(dataSource) },
    allowBatchedHttpRequests: false,
    // Auth is a bearer header, never a cookie: a request carrying `Authorization` cannot be a
    // browser's simple cross-site request (the header forces a preflight), so urql's and
    // graphql-request's GET queries pass; header-less simple requests are still refused.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    // `hub serve` owns SIGTERM/SIGINT (drain, close the pool, stop the embedded database, exit).
    // Apollo's own handlers would race it: its stop() leaves a second concurrent stop() waiting forever.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No HTTP cache hints are used; the cache-control plugin would wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      config.production ? ApolloServerPluginLandingPageDisabled() : playgroundPlugin(),
      sqlStatsPlugin(deps.onRequestStats),
      getCachePlugin(),
      observabilityPlugin(logger, metrics),
      unavailablePlugin(),
      guard.apollo.plugin,
      ...(replicas ? [readRoutingPlugin()] : []),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready while the primary answers; replicas out of rotation are listed (reads fail over to
  // the primary), they do not make the process unready.
  app.get('/readyz', async (_req, res) => {
    const states = (primary: string) => (replicas ? { primary, replicas: replicas.status() } : {});
    try {
      await dataSource.query('SELECT 1');
      res.json({ status: 'ready', ...states('up') });
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed');
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable', ...states('down') });
    }
  });

  // /metrics: with HUB_METRICS_PORT only there; in production only with HUB_METRICS_TOKEN
  // (or on that port); HUB_METRICS_TOKEN, when set, is required wherever it is served.
  const clusterMetrics = deps.clusterWorker ? joinClusterMetrics(metrics.registry) : undefined;
  const serveMetrics = metricsHandler(
    clusterMetrics ?? (() => metrics.registry.metrics()),
    metrics.registry.contentType,
    config.scale.metricsToken,
  );
  const metricsApp = config.scale.metricsPort !== undefined ? express().get('/metrics', serveMetrics) : undefined;
  const metricsServer = metricsApp && !deps.clusterWorker ? http.createServer(metricsApp) : undefined;
  if (!metricsApp && (!config.production || config.scale.metricsToken)) app.get('/metrics', serveMetrics);
  if (!config.production) app.use(PLAYGROUND_ASSETS_PATH, playgroundAssets());
  // The live operators' dashboard (examples/live-dashboard), development only.
  if (!config.production) app.use(LIVE_DASHBOARD_PATH, liveDashboardAssets());

  // PUT: the local driver's uploads (upload rows, so a feature route); GET: its signed downloads.
  app.use('/audio', uploadRouter({ dataSource, config, storage, logger }), audioHandler(storage));

  const graphqlCors = cors({ origin: corsOrigin(config.corsOrigins), credentials: false, maxAge: 600 });
  // Subscriptions: graphql-ws on the upgrade of /graphql, graphql-sse at /graphql/stream.
  const live = attachLive({
    httpServer, app, sseMiddleware: [graphqlCors], schema, dataSource, config, secret, storage, logger, metrics,
    guard, onLiveBatch: deps.onLiveBatch,
  });

  app.use(
    '/graphql',
    graphqlCors,
    express.json({ limit: BODY_LIMIT }),
    bodyErrors,
    trustedDocumentsMiddleware(guard.trusted),
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      // Everything the request does, the context's viewer lookup included, is counted here.
      const requestId = requestIdOf(req.headers['x-request-id']);
      const stats: SqlStats = { requestId, statements: 0, log: deps.onRequestStats ? [] : undefined };
      res.setHeader('x-request-id', requestId);
      sqlScope.run(stats, next);
    },
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const user = await authenticate(dataSource, secret, req.headers.authorization, config.maxTokenTtlSeconds).catch((error) => {
          if (error instanceof GraphQLError) throw error;
          logger.error({ err: error, requestId: sqlScope.getStore()?.requestId }, 'authentication lookup failed');
          throw unavailable();
        });
        // Document limits and the viewer's new-document budget, before Apollo parses anything.
        guard.apollo.admit(req, user.id);
        // A malformed x-hub-lsn is ignored (it only asks for fresher reads), never an error.
        const reads = replicas ? new ReadRoute(replicas, user.id, parseLsn(req.headers[LSN_HEADER]) ?? 0n) : undefined;
        return createContext(dataSource, config, storage, user, reads);
      },
    }),
  );

  const hub: HubServer = {
    app,
    httpServer,
    live,
    async listen(port = config.port, host = config.host) {
      if (metricsServer) {
        await new Promise<void>((resolve, reject) => {
          metricsServer.once('error', reject);
          metricsServer.listen(config.scale.metricsPort, host, () => resolve());
        });
        const { port: metricsPort } = metricsServer.address() as AddressInfo;
        hub.metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${metricsPort}/metrics`;
      }
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
        });
      });
    },
    async close() {
      closing = true;
      await live.close();
      metricsServer?.close();
      await apollo.stop();
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => idleWaiters.push(resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000))),
        ]);
        clearTimeout(timer);
      }
      metrics.stop();
    },
  };
  return hub;
}
