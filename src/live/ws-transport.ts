import http from 'node:http';
import { Duplex } from 'node:stream';
import { ExecutionResult, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { Channel, LiveResult } from './channel';
import { endedError } from './hub';
import { addressOf, ConnectionRefused, ConnectionSlot, LiveConnections } from './connections';
import { documentRequest } from './operation';
import { asGraphQLError, limitError, LiveAuth, StartOperation } from './start';
import { bytesTaken, StallWatch } from './stall-watch';
import { closesBegunHere, useGraphqlWs, WsExtra } from './ws';
import { WsFrames } from './ws-frames';

export const WS_PATH = '/graphql';

/** WebSocket close codes of the live transport (4400–4499 as graphql-ws uses them). */
export const CLOSE = {
  UNAUTHENTICATED: 4401,
  /** The Origin is not among the allowed ones (refused at the upgrade: 403). */
  FORBIDDEN: 4403,
  /** The client did not read fast enough: its outbound buffer passed HUB_LIVE_MAX_BUFFER_BYTES,
   * or it stopped taking what was sent (HUB_LIVE_STALL_TIMEOUT_MS). */
  SLOW_CONSUMER: 4413,
  /** A per-viewer limit refused the connection (HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER). */
  TOO_MANY: 4429,
  /** Authentication could not be looked up (database unavailable): retry later. */
  TRY_AGAIN_LATER: 1013,
} as const;

export interface WsTransportDeps<A extends LiveAuth> {
  httpServer: http.Server;
  schema: GraphQLSchema;
  connections: LiveConnections;
  stalls: StallWatch;
  limits: { maxSubscriptionsPerConnection: number; maxBufferBytes: number; connectionInitTimeoutMs: number };
  /** Whether a request's Origin may open a live connection (see the server's CORS list). */
  originAllowed(req: http.IncomingMessage): boolean;
  authenticate(authorization: string | undefined): Promise<A>;
  start: StartOperation<A>;
  formatError(error: GraphQLError): GraphQLFormattedError;
  onClosed(record: { transport: string; reason: string; code?: number }): void;
  /** A client closed its WebSocket (or its socket dropped): `busy` when it left a subscription
   * open or being set up, or before it authenticated, or without a close frame. */
  onClientLeft(record: { transport: string; during: 'websocket'; code: number; subscriptions: number; settingUp: number }, busy: boolean): void;
  onInternalError(error: unknown): void;
}

/** What one connection holds, beside what graphql-ws keeps. */
interface WsConnection<A> {
  slot: ConnectionSlot;
  auth?: A;
  authorization?: string;
  /** The connection's open streams: all end with the socket, whatever graphql-ws still tracks. */
  streams: Set<Channel>;
  /** Ids whose subscribe is still being set up (authentication, registration). */
  settingUp: Set<string>;
  expiry?: NodeJS.Timeout;
  /** Where the connection's results are written (see WsFrames). */
  frames: WsFrames;
}

/** Time for the expired subscriptions' last results to go out before the socket closes. */
const EXPIRED_CLOSE_DELAY_MS = 200;

/** The longest timer Node keeps (about 24.8 days); tokens live far shorter (HUB_MAX_TOKEN_TTL). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function refuseUpgrade(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  const lines = Object.entries({ ...headers, connection: 'close', 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${lines.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's upgrade at /graphql. An upgrade is
 * refused before it is accepted when its Origin is not allowed (403), the process is full (503) or
 * its address holds its share (429); a connection that does not authenticate within the init
 * timeout is closed (4408); one whose viewer holds its share of connections gets 4429; one whose
 * token expires is closed with 4401; one that stops reading what it is sent is closed as a slow
 * consumer (4413). Each subscription authenticates again (a viewer deleted since cannot start
 * one), may name a trusted document by `documentId`, and runs the shared start.
 */
export function attachWsTransport<A extends LiveAuth>(deps: WsTransportDeps<A>) {
  const { limits } = deps;
  const sockets = new Set<WebSocket>();
  const state = new WeakMap<WebSocket, WsConnection<A>>();
  const streamOf = new WeakMap<object, { stream: Channel; id: string; frames: WsFrames }>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });

  const slowConsumer = (socket: WebSocket, why: string) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    deps.onClosed({ transport: 'ws', reason: 'slow consumer', code: CLOSE.SLOW_CONSUMER });
    socket.close(CLOSE.SLOW_CONSUMER, `Slow consumer: ${why}; resubscribe (messageAdded with after)`);
    // The close frame waits behind the backlog; a reader that never drains is cut off.
    setTimeout(() => socket.terminate(), 2000).unref();
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, '');
    if (!deps.originAllowed(req)) {
      deps.onClosed({ transport: 'ws', reason: 'origin not allowed', code: CLOSE.FORBIDDEN });
      return refuseUpgrade(socket, 403, 'FORBIDDEN: this Origin may not open live connections (HUB_CORS_ORIGINS)');
    }
    let slot: ConnectionSlot;
    let accepted: WebSocket | undefined;
    try {
      slot = deps.connections.admit('ws', addressOf(req), () => {
        // graphql-ws closes 4408 without connection_init; this also bounds a slow authentication
        // and an upgrade that never completes.
        if (!accepted) return void socket.destroy();
        if (state.get(accepted)?.auth) return;
        accepted.close(4408, 'Connection initialisation timeout');
        setTimeout(() => accepted?.terminate(), 1000).unref();
      });
    } catch (error) {
      if (!(error instanceof ConnectionRefused)) throw error;
      deps.onClosed({ transport: 'ws', reason: error.status === 503 ? 'connection limit' : 'requester limit' });
      return refuseUpgrade(socket, error.status, error.message, { 'retry-after': String(error.retryAfterSeconds) });
    }
    socket.once('close', () => slot.release());
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = ws;
      sockets.add(ws);
      state.set(ws, { slot, streams: new Set(), settingUp: new Set(), frames: new WsFrames(ws, socket) });
      const closedHere = closesBegunHere(ws);
      ws.once('close', (code) => {
        sockets.delete(ws);
        slot.release();
        if (closedHere()) return;
        const connection = state.get(ws);
        const subscriptions = connection?.streams.size ?? 0;
        const settingUp = connection?.settingUp.size ?? 0;
        const busy = subscriptions + settingUp > 0 || !connection?.auth || code === 1006;
        deps.onClientLeft({ transport: 'ws', during: 'websocket', code, subscriptions, settingUp }, busy);
      });
      const unwatch = deps.stalls.watch(
        {
          owed: () => ws.bufferedAmount + [...(state.get(ws)?.streams ?? [])].reduce((sum, stream) => sum + stream.pendingBytes, 0),
          taken: () => bytesTaken(socket),
        },
        () => slowConsumer(ws, 'it stopped reading what it was sent'),
      );
      ws.once('close', unwatch);
      wss.emit('connection', ws, req);
    });
  };
  deps.httpServer.on('upgrade', onUpgrade);

  const connectionOf = (extra: WsExtra): WsConnection<A> => {
    const connection = state.get(extra.socket);
    if (!connection) throw new Error('a WebSocket without its connection state');
    return connection;
  };

  const wsServer = useGraphqlWs(
    {
      schema: deps.schema,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const connection = connectionOf(ctx.extra);
        const { socket } = ctx.extra;
        // `authorization` as the contract names it; GraphiQL sends its Headers pane (`Authorization`).
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        let auth: A;
        try {
          auth = await deps.authenticate(typeof authorization === 'string' ? authorization : undefined);
          connection.slot.authenticated(auth.viewer.id);
          connection.slot.established();
        } catch (error) {
          if (error instanceof ConnectionRefused) {
            deps.onClosed({ transport: 'ws', reason: 'requester limit', code: CLOSE.TOO_MANY });
            socket.close(CLOSE.TOO_MANY, error.message.slice(0, 120));
          } else if (error instanceof GraphQLError && error.extensions?.code === 'UNAUTHENTICATED') {
            deps.onClosed({ transport: 'ws', reason: 'unauthenticated', code: CLOSE.UNAUTHENTICATED });
            socket.close(CLOSE.UNAUTHENTICATED, `UNAUTHENTICATED: ${error.message}`.slice(0, 120));
          } else {
            // The lookup itself failed (the database is unreachable or saturated): not the
            // client's fault, and worth a retry.
            deps.onClosed({ transport: 'ws', reason: 'authentication unavailable', code: CLOSE.TRY_AGAIN_LATER });
            socket.close(CLOSE.TRY_AGAIN_LATER, 'The database is unavailable; try again shortly');
          }
          return false;
        }
        connection.auth = auth;
        connection.authorization = authorization as string;
        if (auth.expiresAt !== undefined) {
          connection.expiry = setTimeout(() => {
            // Each subscription ends with its UNAUTHENTICATED result first (the hub's expiry),
            // then the connection closes: it keeps no slot on a token that no longer holds.
            for (const stream of connection.streams) stream.end(endedError('The bearer token expired'));
            setTimeout(() => {
              deps.onClosed({ transport: 'ws', reason: 'token expired', code: CLOSE.UNAUTHENTICATED });
              socket.close(CLOSE.UNAUTHENTICATED, 'UNAUTHENTICATED: the bearer token expired; reconnect with a fresh one');
            }, EXPIRED_CLOSE_DELAY_MS).unref();
          }, Math.min(MAX_TIMER_MS, Math.max(0, auth.expiresAt - Date.now())));
          connection.expiry.unref();
        }
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connectionOf(ctx.extra);
        const { socket } = ctx.extra;
        // graphql-ws forgets an id on `complete` while its subscribe is still being set up; the
        // same id subscribed again then shared one entry with it, and the first stream was
        // never ended (a subscriber left registered for the life of the connection).
        if (connection.settingUp.has(id)) {
          return [new GraphQLError(`Subscription ${id.slice(0, 64)} is still being set up; use another id or wait for its end`, { extensions: { code: 'CONFLICT' } })];
        }
        if (connection.streams.size + connection.settingUp.size >= limits.maxSubscriptionsPerConnection) {
          const message = `A connection may hold at most ${limits.maxSubscriptionsPerConnection} subscriptions`;
          return [limitError('subscription', message, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION')];
        }
        connection.settingUp.add(id);
        try {
          // Authenticated again per subscription: the viewer may have been deleted since.
          let auth: A;
          try {
            auth = await deps.authenticate(connection.authorization);
          } catch (error) {
            return [asGraphQLError(error)];
          }
          const result = await deps.start('ws', auth, documentRequest(payload), () =>
            new Channel(limits.maxBufferBytes, () => socket.bufferedAmount, () => slowConsumer(socket, 'its outbound buffer is full')),
          );
          if ('errors' in result) return result.errors;
          const { stream } = result;
          // The client may have gone while this was set up: nobody would end the stream.
          if (socket.readyState !== WebSocket.OPEN) void stream.return();
          else {
            connection.streams.add(stream);
            stream.onClose(() => connection.streams.delete(stream));
          }
          const contextValue = {};
          streamOf.set(contextValue, { stream, id, frames: connection.frames });
          return { schema: deps.schema, document: result.document, operationName: result.operationName, contextValue };
        } finally {
          connection.settingUp.delete(id);
        }
      },
      onClose: (ctx) => {
        const connection = state.get(ctx.extra.socket);
        clearTimeout(connection?.expiry);
        for (const stream of connection?.streams ?? []) void stream.return();
      },
      subscribe: (args) => {
        const entry = typeof args.contextValue === 'object' && args.contextValue !== null ? streamOf.get(args.contextValue) : undefined;
        if (!entry) throw new Error('a subscription without its stream');
        const { stream, id, frames } = entry;
        // graphql-ws pulls first once it has taken the subscription on (not for an id completed
        // while it was set up). From then on results go straight to the connection's frames,
        // serialized once by the hub; the iterator carries only a final result (an error, which
        // onNext hands on unchanged: the hub formatted it) and the end, after every frame.
        const iterator: AsyncIterableIterator<LiveResult> = {
          next: () => {
            stream.attach(frames.sinkFor(id));
            return stream.next();
          },
          return: () => stream.return(),
          throw: (error: unknown) => stream.throw(error),
          [Symbol.asyncIterator]: () => iterator,
        };
        // graphql-ws types a stream's values as graphql-js results; the hub's are formatted.
        return iterator as unknown as AsyncIterable<ExecutionResult>;
      },
      onNext: (_ctx, _id, _payload, _args, result) => result,
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => deps.formatError(error)),
    },
    wss,
    {
      onProtocolError: (error) => deps.onClosed({ transport: 'ws', reason: `protocol error: ${error.message}`.slice(0, 120) }),
      onInternalError: (error) => deps.onInternalError(error),
    },
  );

  return {
    /** Closes every connection with `code` (as a restart would: 1012). */
    drop(code: number, reason: string) {
      for (const socket of sockets) socket.close(code, reason);
    },
    /** Stops accepting; going away (1001) to every socket, cut off after a second. */
    async close() {
      deps.httpServer.off('upgrade', onUpgrade);
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
