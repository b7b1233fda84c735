import http from 'node:http';
import { Duplex } from 'node:stream';
import express from 'express';
import { createSourceEventStream, DocumentNode, ExecutionResult, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { WebSocketServer, WebSocket } from 'ws';
import { sqlScope, SqlStats } from '../db/sql-counter';
import { Channel } from './channel';
import { LiveHub, LiveViewer, TooManySubscriptions } from './hub';
import { checkOperation, OperationLimits, OperationRequest } from './operation';
import { createSseHandler } from './sse';
import { useGraphqlWs } from './ws';

/** The live limits (HUB_LIVE_* variables). */
export interface LiveLimits {
  maxConnections: number;
  maxSubscriptionsPerConnection: number;
  connectionInitTimeoutMs: number;
  maxBufferBytes: number;
}

/** An authenticated live caller. */
export interface LiveAuth {
  viewer: LiveViewer;
  /** When the bearer token expires (ms since the epoch). */
  expiresAt?: number;
}

/** What a `Subscription` field's `subscribe` resolver finds in its context as `live`. */
export interface LiveRegistrar {
  /** Registers this operation's subscriber with a feed and returns its result stream. `replay`:
   * first replay from the state's starting position (see LiveFeed.replay). */
  subscribe<S>(feed: string, state: S, options?: { replay?: boolean }): Promise<AsyncIterable<ExecutionResult>>;
}

export interface LiveTransportDeps {
  httpServer: http.Server;
  app: express.Express;
  /** Middleware run before the SSE handler (CORS). */
  sseMiddleware: express.RequestHandler[];
  schema: GraphQLSchema;
  hub: LiveHub;
  limits: LiveLimits;
  operationLimits: OperationLimits;
  /** Resolves an Authorization value to the caller; throws an UNAUTHENTICATED GraphQLError. */
  authenticate(authorization: string | undefined): Promise<LiveAuth>;
  /** The resolver context of one subscription, with `live` for its `subscribe` resolver. */
  createContext(auth: LiveAuth, live: LiveRegistrar): Promise<unknown> | unknown;
  /** The server's error formatting (codes, masking, logging of unexpected errors). */
  formatError(error: GraphQLError): GraphQLFormattedError;
  /** Observability: one call per subscription start (errors included) and per server-side close. */
  onOperation(record: { transport: string; operation: string; durationMs: number; sql: number; codes: string[] }): void;
  onClosed(record: { transport: string; reason: string; code?: number }): void;
  /** A failure of the server itself while handling a live message (logged; the connection gets 4500). */
  onInternalError(error: unknown): void;
  metrics: { connections: { inc(labels: { transport: string }): void; dec(labels: { transport: string }): void } };
}

/** WebSocket close codes of the live transport (4400–4499 as graphql-ws uses them). */
export const CLOSE = {
  UNAUTHENTICATED: 4401,
  /** The client did not read fast enough: its outbound buffer passed HUB_LIVE_MAX_BUFFER_BYTES. */
  SLOW_CONSUMER: 4413,
  /** Authentication could not be looked up (database unavailable): retry later. */
  TRY_AGAIN_LATER: 1013,
} as const;

export const SSE_PATH = '/graphql/stream';
export const WS_PATH = '/graphql';

type StartResult = { stream: AsyncIterable<ExecutionResult>; document: DocumentNode; operationName?: string } | { errors: GraphQLError[] };

function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError((error as Error)?.message ?? String(error), { originalError: error as Error });
}

/** graphql-js reports some bad input before any resolver runs (variables that do not coerce):
 * no path and no code. Apollo codes these BAD_USER_INPUT over HTTP; so do the live transports. */
function asRequestError(error: GraphQLError): GraphQLError {
  if (error.path !== undefined || error.extensions?.code !== undefined) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error.originalError, extensions: { code: 'BAD_USER_INPUT' } });
}

function limitError(field: string, message: string, limit: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', validation: [{ field, message }], limit } });
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's upgrade at /graphql and graphql-sse
 * (distinct connections) at /graphql/stream. Both run the same start: the operation checks of
 * POST /graphql (checkOperation), authentication per subscription (a viewer deleted since the
 * WebSocket connected cannot start new ones), the Subscription field's own `subscribe` resolver,
 * and then the hub's shared, already-executed and formatted results.
 */
export function attachLiveTransports(deps: LiveTransportDeps) {
  const { limits } = deps;
  let connections = 0;
  const sockets = new Set<WebSocket>();
  const sseResponses = new Set<http.ServerResponse>();
  /** Counts an open connection (the per-process limit, the metric, what close() ends) until it closes. */
  function track<C extends { once(event: 'close', listener: () => void): unknown }>(open: Set<C>, connection: C, transport: 'ws' | 'sse'): void {
    connections += 1;
    open.add(connection);
    deps.metrics.connections.inc({ transport });
    connection.once('close', () => {
      connections -= 1;
      open.delete(connection);
      deps.metrics.connections.dec({ transport });
    });
  }

  async function start(
    transport: string,
    auth: LiveAuth,
    request: OperationRequest,
    channelFor: () => Channel,
  ): Promise<StartResult> {
    const started = process.hrtime.bigint();
    const stats: SqlStats = { statements: 0 };
    const operationName = typeof request.operationName === 'string' ? request.operationName : 'anonymous';
    let result: StartResult;
    try {
      if (auth.expiresAt !== undefined && auth.expiresAt <= Date.now()) {
        throw new GraphQLError('The bearer token expired', { extensions: { code: 'UNAUTHENTICATED' } });
      }
      const checked = checkOperation(deps.schema, deps.operationLimits, request, auth.viewer.id);
      let channel: Channel | undefined;
      const live: LiveRegistrar = {
        subscribe: async (feed, state, options) => {
          channel = channelFor();
          try {
            await deps.hub.register({
              feed,
              viewer: auth.viewer,
              state,
              channel,
              replay: Boolean(options?.replay),
              expiresAt: auth.expiresAt,
              operation: {
                document: checked.document,
                operationName: checked.operationName,
                variableValues: checked.variables,
                documentKey: checked.documentKey,
              },
            });
          } catch (error) {
            channel.end();
            if (error instanceof TooManySubscriptions) {
              throw limitError('subscription', error.message, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER');
            }
            throw error;
          }
          return channel;
        },
      };
      const source = await sqlScope.run(stats, async () =>
        createSourceEventStream({
          schema: deps.schema,
          document: checked.document,
          operationName: checked.operationName,
          variableValues: checked.variables,
          contextValue: await deps.createContext(auth, live),
        }),
      );
      if (Symbol.asyncIterator in source) result = { stream: source as AsyncIterable<ExecutionResult>, document: checked.document, operationName: checked.operationName };
      else result = { errors: [...((source as ExecutionResult).errors ?? [])].map(asRequestError) };
    } catch (error) {
      result = { errors: [asGraphQLError(error)] };
    }
    const codes = 'errors' in result ? result.errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')) : [];
    deps.onOperation({
      transport,
      operation: operationName,
      durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      sql: stats.statements,
      codes,
    });
    return result;
  }

  // ------------------------------------------------------------------------------ graphql-ws
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (connections >= limits.maxConnections) {
      deps.onClosed({ transport: 'ws', reason: 'connection limit' });
      const body = `This server holds its maximum of ${limits.maxConnections} live connections (HUB_LIVE_MAX_CONNECTIONS); try again later`;
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  deps.httpServer.on('upgrade', onUpgrade);
  wss.on('connection', (socket) => track(sockets, socket, 'ws'));

  interface WsExtra {
    socket: WebSocket;
    auth?: LiveAuth;
    authorization?: string;
    /** The connection's open streams: all end with the socket, whatever graphql-ws still tracks. */
    streams: Set<Channel>;
    /** Ids whose subscribe is still being set up (authentication, registration). */
    settingUp: Set<string>;
  }
  const slowConsumer = (socket: WebSocket) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    deps.onClosed({ transport: 'ws', reason: 'slow consumer', code: CLOSE.SLOW_CONSUMER });
    socket.close(CLOSE.SLOW_CONSUMER, 'Slow consumer: outbound buffer full; resubscribe (messageAdded with after)');
    // The close frame waits behind the backlog; a reader that never drains is cut off.
    setTimeout(() => socket.terminate(), 2000).unref();
  };

  const wsServer = useGraphqlWs<WsExtra>(
    {
      schema: deps.schema,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const extra = ctx.extra as unknown as WsExtra;
        extra.streams = new Set();
        extra.settingUp = new Set();
        // `authorization` as the contract names it; GraphiQL sends its Headers pane (`Authorization`).
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          extra.auth = await deps.authenticate(typeof authorization === 'string' ? authorization : undefined);
          extra.authorization = authorization as string;
          return true;
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions?.code === 'UNAUTHENTICATED') {
            deps.onClosed({ transport: 'ws', reason: 'unauthenticated', code: CLOSE.UNAUTHENTICATED });
            extra.socket.close(CLOSE.UNAUTHENTICATED, `UNAUTHENTICATED: ${error.message}`.slice(0, 120));
          } else {
            // The lookup itself failed (the database is unreachable or saturated): not the
            // client's fault, and worth a retry.
            deps.onClosed({ transport: 'ws', reason: 'authentication unavailable', code: CLOSE.TRY_AGAIN_LATER });
            extra.socket.close(CLOSE.TRY_AGAIN_LATER, 'The database is unavailable; try again shortly');
          }
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const extra = ctx.extra as unknown as WsExtra;
        // graphql-ws forgets an id on `complete` while its subscribe is still being set up; the
        // same id subscribed again then shared one entry with it, and the first stream was
        // never ended (a subscriber left registered for the life of the connection).
        if (extra.settingUp.has(id)) {
          return [new GraphQLError(`Subscription ${id.slice(0, 64)} is still being set up; use another id or wait for its end`, { extensions: { code: 'CONFLICT' } })];
        }
        if (extra.streams.size + extra.settingUp.size >= limits.maxSubscriptionsPerConnection) {
          const message = `A connection may hold at most ${limits.maxSubscriptionsPerConnection} subscriptions`;
          return [limitError('subscription', message, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION')];
        }
        extra.settingUp.add(id);
        try {
          // Authenticated again per subscription: the viewer may have been deleted since.
          let auth: LiveAuth;
          try {
            auth = await deps.authenticate(extra.authorization);
          } catch (error) {
            return [asGraphQLError(error)];
          }
          const result = await start('ws', auth, payload, () =>
            new Channel(limits.maxBufferBytes, () => extra.socket.bufferedAmount, () => slowConsumer(extra.socket)),
          );
          if ('errors' in result) return result.errors;
          const stream = result.stream as Channel;
          // The client may have gone while this was set up: nobody would end the stream.
          if (extra.socket.readyState !== WebSocket.OPEN) void stream.return();
          else {
            extra.streams.add(stream);
            stream.onClose(() => extra.streams.delete(stream));
          }
          return { schema: deps.schema, document: result.document, operationName: result.operationName, contextValue: { stream } };
        } finally {
          extra.settingUp.delete(id);
        }
      },
      onClose: (ctx) => {
        const extra = ctx.extra as unknown as WsExtra;
        for (const stream of extra.streams ?? []) void stream.return();
      },
      subscribe: (args) => (args.contextValue as { stream: AsyncIterable<ExecutionResult> }).stream as any,
      // Results are formatted by the hub already (plain objects, no toJSON).
      onNext: (_ctx, _id, _payload, _args, result) => result as any,
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => deps.formatError(error)) as any,
    },
    wss,
    {
      onProtocolError: (error) => deps.onClosed({ transport: 'ws', reason: `protocol error: ${error.message}`.slice(0, 120) }),
      onInternalError: (error) => deps.onInternalError(error),
    },
  );

  // ----------------------------------------------------------------------------- graphql-sse
  const sse = createSseHandler<{ res: http.ServerResponse }>({
    schema: deps.schema,
    // Distinct connections only: each subscription is its own request and stream.
    authenticate: () => null,
    onSubscribe: async (req, params) => {
      const { res } = req.context;
      const json = (status: number, errors: GraphQLError[]) =>
        [JSON.stringify({ errors: errors.map((e) => deps.formatError(e)) }), { status, statusText: http.STATUS_CODES[status] ?? '', headers: { 'content-type': 'application/json; charset=utf-8' } }] as const;
      let auth: LiveAuth;
      try {
        auth = await deps.authenticate(req.headers.get('authorization') ?? undefined);
      } catch (error) {
        const e = asGraphQLError(error);
        return json(e.extensions?.code === 'UNAUTHENTICATED' ? 401 : 503, [e]) as any;
      }
      let channel: Channel | undefined;
      const result = await start('sse', auth, params, () => {
        channel = new Channel(limits.maxBufferBytes, () => res.writableLength, () => {
          deps.onClosed({ transport: 'sse', reason: 'slow consumer' });
          void channel!.return();
          res.destroy();
        });
        return channel;
      });
      if ('errors' in result) {
        const code = result.errors[0]?.extensions?.code;
        if (code === 'BAD_USER_INPUT' || code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED' || code === 'OPERATION_RESOLUTION_FAILURE') {
          return json(400, result.errors) as any;
        }
        // With `data`, or graphql-sse takes the result for execution arguments ("Unable to detect operation AST").
        return { data: null, errors: result.errors.map((e) => deps.formatError(e)) } as any;
      }
      return result.stream as any;
    },
    onNext: (_ctx, _req, result) => result as any,
  });

  const sseRoute: express.RequestHandler = (req, res) => {
    if (connections >= limits.maxConnections) {
      deps.onClosed({ transport: 'sse', reason: 'connection limit' });
      res.status(503).setHeader('retry-after', '5').json({
        errors: [{ message: `This server holds its maximum of ${limits.maxConnections} live connections (HUB_LIVE_MAX_CONNECTIONS); try again later`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      return;
    }
    track(sseResponses, res, 'sse');
    sse(req, res, { res }).catch((error: unknown) => {
      deps.onClosed({ transport: 'sse', reason: `handler error: ${(error as Error)?.message}` });
      if (!res.headersSent) res.status(500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  };
  deps.app.use(SSE_PATH, ...deps.sseMiddleware, sseRoute);

  return {
    /** Open live connections of this process (both transports). */
    get connections() {
      return connections;
    },
    /** Closes every live connection with `code` (as a restart would: 1012); subscriptions end. */
    dropConnections(code = 1012, reason = 'Service restart') {
      for (const socket of sockets) socket.close(code, reason);
      for (const res of sseResponses) res.destroy();
    },
    /** Ends every subscription (clients see `complete`), then closes the sockets. */
    async close() {
      deps.httpServer.off('upgrade', onUpgrade);
      await deps.hub.stop();
      for (const res of sseResponses) res.end();
      // Going away (1001) to every WebSocket; one that does not answer the close is cut off.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.resolve(wsServer.dispose()).catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000))),
      ]);
      clearTimeout(timer);
      for (const socket of sockets) socket.terminate();
    },
  };
}

export type LiveTransports = ReturnType<typeof attachLiveTransports>;
