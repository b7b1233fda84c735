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
import express from 'express';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { DataSource } from 'typeorm';
import { requestAuthenticator } from './auth/authenticate-request';
import { Config } from './config';
import { Context, createContext } from './context';
import { sqlScope, SqlStats } from './db/sql-counter';
import { formatError, isDatabaseUnavailable } from './errors.format';
import { Logger } from './logger';
import { bodyErrors, notFoundRoute, refuseInvalidUtf8 } from './http/body-errors';
import { corsHandler, originPolicy } from './http/cors';
import { createExpressServer } from './http/express-server';
import { answerClientErrors, clientDepartures } from './http/client-errors';
import { DocumentStep } from './http/document-cache';
import { createOperationGuard } from './http/operation-guard';
import { loadTrustedDocuments, trustedDocumentsMiddleware } from './http/trusted-documents';
import { createMetrics, joinClusterMetrics, metricsHandler } from './http/metrics';
import { SharedApqCache } from './http/apq-cache';
import { readRoutingPlugin } from './http/read-routing';
import { LSN_HEADER, parseLsn, ReadReplicas, ReadRoute } from './db/replicas';
import { observabilityPlugin } from './http/observability';
import { responseSizePlugin } from './http/response-size';
import { PLAYGROUND_ASSETS_PATH, playgroundAssets, playgroundPlugin, playgroundServed } from './http/playground';
import { resolvers, typeDefs } from './schema';
import { jitGateway } from './http/jit-executor';
import { uploadRouter } from './audio-uploads/receive-upload';
import { startUploadJanitor, UploadJanitor } from './audio-uploads/upload-janitor';
import { audioHandler } from './storage/audio-handler';
import { attachLive } from './live-server';
import { LIVE_DASHBOARD_PATH, liveDashboardAssets } from './live/dashboard-assets';
import { createAudioStorage } from './storage/storage';
import { RequesterLimits } from './limits/requester-limits';
import { oneInFlight } from './limits/one-in-flight';
import { postgresWindows } from './limits/shared-windows';
import { tokenUser, viewerOf } from './users/token-user';
import { UserModel } from './users/user.rows';
import { RememberedViewer, RememberedViewers, ViewerConfirmation } from './users/viewer-confirmation';

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
  /** The server's own audio garbage collection (tests run it at once). */
  janitor: UploadJanitor;
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

/** A request that registers an automatic persisted query is answered once the hash is stored (apq-cache.ts). */
function apqRegisteredPlugin(apq: SharedApqCache): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ queryHash, metrics }) {
          if (metrics.persistedQueryRegister && queryHash) await apq.registered(queryHash);
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
/** /readyz's live check: the probe must arrive within 2 s; one that arrived in the last 5 s counts. */
const READY_PROBE = { timeoutMs: 2000, maxAgeMs: 5000 };

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
  // connection (its client may have sent it before the signal) is answered, and then its
  // connection closes; one on a connection the drain has already ended could not be answered,
  // so it does not run. close() waits for every request that started, so none is still in a
  // transaction when the pool closes. Live streams are refused by their closed transport.
  let closing = false;
  let inFlight = 0;
  const idleWaiters: (() => void)[] = [];
  app.use((req, res, next) => {
    if (closing && !req.socket.writable) {
      req.socket.destroy();
      return;
    }
    if (closing) res.setHeader('connection', 'close');
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) idleWaiters.splice(0).forEach((resolve) => resolve());
    });
    next();
  });
  // A client that leaves before its answer is complete: one info line, whatever the route.
  app.use(clientDepartures(logger));
  const httpServer = createExpressServer(app);
  answerClientErrors(httpServer, logger);

  const schema = makeExecutableSchema({ typeDefs: typeDefs(), resolvers: resolvers() });
  // Query limits, cost, trusted documents: one set of checks for every transport (operation-guard.ts).
  const countStep = (step: DocumentStep) => metrics.documentWork.inc({ step });
  // What one requester may hold or do per minute, shared by the transports (src/limits/).
  const limits = new RequesterLimits({
    shared: postgresWindows(dataSource),
    onRefusal: (limit) => metrics.limitRefusals.inc({ limit }),
    onProblem: (message, error) => logger.warn({ err: error }, message),
  });
  const guard = createOperationGuard(schema, config, loadTrustedDocuments(config.trustedDocuments, config.trustedDocumentsFile), countStep, limits);
  const apq = config.trustedDocuments === 'require' ? undefined : new SharedApqCache(dataSource);
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
    persistedQueries: apq ? { cache: apq } : false,
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
      playgroundServed(config) ? playgroundPlugin() : ApolloServerPluginLandingPageDisabled(),
      sqlStatsPlugin(deps.onRequestStats),
      ...(apq ? [apqRegisteredPlugin(apq)] : []),
      getCachePlugin(),
      // Before observability: the error it may put in place of an answer is counted like any other.
      responseSizePlugin(config.maxResponseBytes),
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
  // Live updates too: a LISTEN that cannot run, or whose own probe notification does not arrive
  // (a LISTEN through a transaction pooler), would otherwise lose every live update silently.
  app.get('/readyz', async (_req, res) => {
    const states = (primary: string) => (replicas ? { primary, replicas: replicas.status() } : {});
    const listening = live.hub
      .listenerReady((channel, payload) => dataSource.query('SELECT pg_notify($1, $2)', [channel, payload]), READY_PROBE)
      .then(() => 'listening', (error: Error) => error);
    try {
      await dataSource.query('SELECT 1');
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed');
      await listening;
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable', ...states('down') });
      return;
    }
    const liveState = await listening;
    if (liveState instanceof Error) {
      logger.warn({ err: liveState }, 'readiness check failed: live updates');
      res.status(503).json({ status: 'unavailable', reason: `live updates: ${liveState.message}`, live: 'down', ...states('up') });
      return;
    }
    res.json({ status: 'ready', live: liveState, ...states('up') });
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
  const metricsServer = metricsApp && !deps.clusterWorker ? createExpressServer(metricsApp) : undefined;
  if (!metricsApp && (!config.production || config.scale.metricsToken)) app.get('/metrics', serveMetrics);
  if (playgroundServed(config)) app.use(PLAYGROUND_ASSETS_PATH, playgroundAssets());
  // The live operators' dashboard (examples/live-dashboard), development only.
  if (!config.production) app.use(LIVE_DASHBOARD_PATH, liveDashboardAssets());

  // PUT: the local driver's uploads (upload rows, so a feature route); GET: its signed downloads.
  // A browser page may upload (and fetch) audio with the URLs it was given: CORS as for /graphql.
  const origins = originPolicy(config.corsOrigins);
  const httpCors = corsHandler(origins);
  app.use('/audio', httpCors, uploadRouter({ dataSource, config, storage, logger }), audioHandler(storage));
  const janitor = await startUploadJanitor({ dataSource, storage, config, logger });

  // One authentication for every transport; a failed lookup is logged here and answered 503.
  const onLookupFailure = (error: unknown) => logger.error({ err: error, requestId: sqlScope.getStore()?.requestId }, 'authentication lookup failed');
  // HUB_REMEMBER_VIEWERS: queries over HTTP confirm a user looked up before inside their first
  // read (src/users/viewer-confirmation.ts). Not with read replicas: a replica may not have
  // replayed a deletion yet, and the confirmation must see the primary's users.
  const remembered = config.rememberViewers && !replicas ? new RememberedViewers() : undefined;
  const authOptions = {
    secret,
    maxTokenTtlSeconds: config.maxTokenTtlSeconds,
    // Concurrent requests of one token share its lookup (a flood of connections takes one pool slot).
    findUser: oneInFlight(async (id: string) => {
      const user = await tokenUser(dataSource, id);
      if (user) remembered?.remember(user);
      return user;
    }),
    viewerOf,
    onLookupFailure,
  };
  const authenticate = requestAuthenticator<UserModel>(authOptions);
  const authenticateHttp = requestAuthenticator<UserModel | RememberedViewer>({ ...authOptions, remembered: (id) => remembered?.get(id) });
  // Subscriptions: graphql-ws on the upgrade of /graphql, graphql-sse at /graphql/stream. Browsers'
  // Origin: one rule for CORS and both live transports (http/cors.ts).
  const live = attachLive({
    httpServer, app, sseMiddleware: [httpCors], schema, dataSource, config, storage, logger, metrics,
    guard, limits, authenticate, originAllowed: (req) => origins.allows(req), replicas,
    onLiveBatch: deps.onLiveBatch,
  });

  app.use(
    '/graphql',
    httpCors,
    express.json({ limit: BODY_LIMIT, verify: refuseInvalidUtf8 }),
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
        const { user, remembered: known } = await authenticateHttp(req.headers.authorization);
        // Document limits and the viewer's new-document budget, before Apollo parses anything.
        await guard.apollo.admit(req, user.id);
        // A malformed x-hub-lsn is ignored (it only asks for fresher reads), never an error.
        const reads = replicas ? new ReadRoute(replicas, user.id, parseLsn(req.headers[LSN_HEADER]) ?? 0n) : undefined;
        const confirmation = known && remembered ? new ViewerConfirmation(dataSource, user, remembered, onLookupFailure) : undefined;
        return createContext(dataSource, config, storage, logger, limits, user, reads, confirmation);
      },
    }),
  );
  // Any other route answers in the API's error shape, not Express's HTML page.
  app.use(notFoundRoute);

  const hub: HubServer = {
    app,
    httpServer,
    live,
    janitor,
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
      await janitor.stop();
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
