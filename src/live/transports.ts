import http from 'node:http';
import express from 'express';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { LiveConnections, RequesterHolds } from './connections';
import { LiveHub } from './hub';
import { OperationLimits } from './operation';
import { attachSseTransport } from './sse-transport';
import { StallWatch } from './stall-watch';
import { LiveAuth, LiveRegistrar, OperationRecord, operationStarter } from './start';
import { attachWsTransport } from './ws-transport';

export { CLOSE, WS_PATH } from './ws-transport';
export { SSE_PATH } from './sse-transport';
export type { LiveAuth, LiveRegistrar } from './start';

/** The live limits (HUB_LIVE_* variables). */
export interface LiveLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxConnectionsPerViewer: number;
  maxSubscriptionsPerConnection: number;
  connectionInitTimeoutMs: number;
  maxBufferBytes: number;
  stallTimeoutMs: number;
}

export interface LiveTransportDeps<A extends LiveAuth> {
  httpServer: http.Server;
  app: express.Express;
  /** Middleware run before the SSE handler (CORS). */
  sseMiddleware: express.RequestHandler[];
  schema: GraphQLSchema;
  hub: LiveHub;
  limits: LiveLimits;
  operationLimits: OperationLimits;
  /** Per-viewer and per-address accounting (the server's RequesterLimits). */
  holds: RequesterHolds;
  /** Whether a request's Origin may open a live connection: the same list as CORS. */
  originAllowed(req: http.IncomingMessage): boolean;
  /** Resolves an Authorization value to the caller; throws a coded GraphQLError. */
  authenticate(authorization: string | undefined): Promise<A>;
  /** The resolver context of one subscription (the same as a request's), with `live`. */
  createContext(auth: A, live: LiveRegistrar): Promise<unknown> | unknown;
  /** The server's error formatting (codes, masking, logging of unexpected errors). */
  formatError(error: GraphQLError): GraphQLFormattedError;
  /** Observability: one call per subscription start (errors included) and per server-side close. */
  onOperation(record: OperationRecord): void;
  onClosed(record: { transport: string; reason: string; code?: number }): void;
  /** A client closed its WebSocket (logged once, info when it left something open, else debug). */
  onClientLeft(record: Record<string, unknown>, busy: boolean): void;
  /** A failure of the server itself while handling a live message (logged; the connection gets 4500). */
  onInternalError(error: unknown): void;
  metrics: { connections: { inc(labels: { transport: string }): void; dec(labels: { transport: string }): void } };
}

/**
 * graphql-ws at /graphql (upgrade) and graphql-sse at /graphql/stream, on one set of connection
 * slots and one stall watch, both starting operations the same way (start.ts).
 */
export function attachLiveTransports<A extends LiveAuth>(deps: LiveTransportDeps<A>) {
  const { limits } = deps;
  const connections = new LiveConnections(limits, deps.holds, deps.metrics.connections);
  const stalls = new StallWatch(limits.stallTimeoutMs);
  const start = operationStarter<A>({
    schema: deps.schema,
    hub: deps.hub,
    operationLimits: deps.operationLimits,
    createContext: deps.createContext,
    onOperation: deps.onOperation,
  });
  const shared = {
    connections,
    stalls,
    limits,
    originAllowed: deps.originAllowed,
    authenticate: deps.authenticate,
    start,
    formatError: deps.formatError,
    onClosed: deps.onClosed,
  };
  const ws = attachWsTransport<A>({ ...shared, httpServer: deps.httpServer, schema: deps.schema, onClientLeft: deps.onClientLeft, onInternalError: deps.onInternalError });
  const sse = attachSseTransport<A>({ ...shared, app: deps.app, middleware: deps.sseMiddleware });

  return {
    /** Open live connections of this process (both transports). */
    get connections() {
      return connections.count;
    },
    /** Closes every live connection with `code` (as a restart would: 1012); subscriptions end. */
    dropConnections(code = 1012, reason = 'Service restart') {
      ws.drop(code, reason);
      sse.drop();
    },
    /** Ends every subscription (clients see `complete`), then closes the sockets. */
    async close() {
      await deps.hub.stop();
      sse.close();
      await ws.close();
      stalls.stop();
    },
  };
}

export type LiveTransports = ReturnType<typeof attachLiveTransports>;
