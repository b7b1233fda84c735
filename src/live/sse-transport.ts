import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { cutResponse, isClientGone, markCutByServer } from '../http/client-errors';
import { Channel } from './channel';
import { addressOf, ConnectionRefused, ConnectionSlot, LiveConnections } from './connections';
import { documentRequest } from './operation';
import { asGraphQLError, limitError, LiveAuth, StartOperation } from './start';
import { bytesTaken, StallWatch } from './stall-watch';
import {
  badRequest,
  BodyRefused,
  completeEvent,
  EventStream,
  nextEvent,
  nextEventOf,
  operationOf,
  Refusal,
  sendRefusal,
  STREAM_TOKEN_HEADER,
} from './sse';

export const SSE_PATH = '/graphql/stream';

export interface SseTransportDeps<A extends LiveAuth> {
  app: express.Express;
  /** Middleware run before the handler (CORS). */
  middleware: express.RequestHandler[];
  connections: LiveConnections;
  stalls: StallWatch;
  limits: { maxSubscriptionsPerConnection: number; maxBufferBytes: number };
  originAllowed(req: http.IncomingMessage): boolean;
  authenticate(authorization: string | undefined): Promise<A>;
  start: StartOperation<A>;
  formatError(error: GraphQLError): GraphQLFormattedError;
  onClosed(record: { transport: string; reason: string; code?: number }): void;
}

/** A single-connection reservation (PUT): its viewer, its slot, its operations, its stream. */
interface Reservation {
  viewerId: string;
  slot: ConnectionSlot;
  ops: Map<string, Channel | null>;
  stream?: EventStream;
}

/** Request errors are refused with a status; others (NOT_FOUND…) are a result on the stream. */
const REQUEST_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'OPERATION_RESOLUTION_FAILURE']);

function statusOf(error: GraphQLError): { status: number; headers?: Record<string, string> } | undefined {
  const http = error.extensions?.http as { status?: number; headers?: Map<string, string> } | undefined;
  const code = String(error.extensions?.code ?? '');
  const headers = http?.headers ? Object.fromEntries(http.headers) : undefined;
  if (typeof http?.status === 'number' && http.status >= 400) return { status: http.status, headers };
  if (code === 'UNAUTHENTICATED') return { status: 401 };
  if (REQUEST_CODES.has(code)) return { status: 400 };
  return undefined;
}

function accepts(req: http.IncomingMessage, type: string): boolean {
  return String(req.headers.accept ?? '').includes(type);
}

function streamTokenOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers[STREAM_TOKEN_HEADER];
  if (typeof header === 'string' && header) return header;
  return new URL(req.url ?? '', 'http://localhost/').searchParams.get('token') ?? undefined;
}

/**
 * graphql-sse's protocol at /graphql/stream, both modes, written here rather than through the
 * library's handler, whose single-connection mode queues every result of a reservation without
 * bound and keeps a reservation nobody connects to forever:
 * - distinct connections: POST (or GET) with `Accept: text/event-stream`, one operation per stream;
 * - single connection: PUT reserves a stream (201, the token), GET or POST with
 *   `Accept: text/event-stream` and `x-graphql-event-stream-token` opens it, POSTs with the token
 *   and `extensions.operationId` start operations on it (202), DELETE `?operationId=` stops one.
 * Every request is authenticated (`Authorization`), a reservation answers only its own viewer
 * (another's token is "not found"), and the limits are the WebSocket's: the connection slots, the
 * handshake bound (a half-sent body or an unopened reservation is dropped), operations per
 * connection, the per-connection buffer and the stall watch.
 */
export function attachSseTransport<A extends LiveAuth>(deps: SseTransportDeps<A>) {
  const { limits } = deps;
  const responses = new Set<http.ServerResponse>();
  const reservations = new Map<string, Reservation>();

  const refuse = (res: http.ServerResponse, error: unknown): Promise<void> => {
    // The client left (clientDepartures logs it once): no answer to build, nothing to report.
    if (isClientGone(error)) {
      if (!res.headersSent) res.destroy();
      return Promise.resolve();
    }
    if (error instanceof BodyRefused) return sendRefusal(res, error.refusal);
    if (error instanceof ConnectionRefused) {
      deps.onClosed({ transport: 'sse', reason: error.status === 503 ? 'connection limit' : 'requester limit' });
      const extensions = error.status === 503 ? { code: 'INTERNAL_SERVER_ERROR' } : { code: 'BAD_USER_INPUT', limit: error.limit, validation: [{ field: 'request', message: error.message }] };
      return sendRefusal(res, { status: error.status, headers: { 'retry-after': String(error.retryAfterSeconds) }, errors: [{ message: error.message, extensions }] });
    }
    const graphqlError = asGraphQLError(error);
    const status = statusOf(graphqlError) ?? { status: 503 };
    return sendRefusal(res, { ...status, errors: [deps.formatError(graphqlError)] });
  };

  /** Admits the request's connection, bounded by the handshake timeout until `established()`. */
  const admit = (req: http.IncomingMessage, res: http.ServerResponse): ConnectionSlot =>
    deps.connections.admit('sse', addressOf(req), () => {
      deps.onClosed({ transport: 'sse', reason: 'handshake timeout' });
      markCutByServer(res);
      void sendRefusal(res, badRequest(408, 'body', 'the request was not complete in time (HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS)')).then(() => res.destroy());
      req.destroy();
    });

  const authenticated = async (req: http.IncomingMessage, slot?: ConnectionSlot): Promise<A> => {
    const auth = await deps.authenticate(req.headers.authorization);
    slot?.authenticated(auth.viewer.id);
    return auth;
  };

  const newChannel = (res: http.ServerResponse | undefined, owed: () => number, onOverflow: () => void) =>
    new Channel(limits.maxBufferBytes, owed, () => {
      deps.onClosed({ transport: 'sse', reason: 'slow consumer' });
      onOverflow();
      if (res) cutResponse(res);
    });

  /** Starts one operation: its stream, or a refusal to answer the request with, or errors to
   * send as the stream's only result (NOT_FOUND and other errors of the resolver). */
  type Outcome = { stream: Channel } | { refusal: Refusal } | { errors: { data: null; errors: GraphQLFormattedError[] } };
  const startOperation = async (auth: A, request: Parameters<StartOperation<A>>[2], channelFor: () => Channel): Promise<Outcome> => {
    const result = await deps.start('sse', auth, documentRequest(request), channelFor);
    if ('stream' in result) return { stream: result.stream };
    const errors = result.errors.map((e) => deps.formatError(e));
    for (const error of result.errors) {
      const status = statusOf(error);
      if (status) return { refusal: { ...status, errors } };
    }
    // `data: null` beside the errors, as graphql-sse's clients expect of an execution result.
    return { errors: { data: null, errors } };
  };

  const watch = (res: http.ServerResponse, owed: () => number) => {
    const unwatch = deps.stalls.watch({ owed, taken: () => bytesTaken(res.socket) }, () => {
      deps.onClosed({ transport: 'sse', reason: 'slow consumer' });
      cutResponse(res);
    });
    res.once('close', unwatch);
  };

  // ------------------------------------------------------------------------ distinct connections
  async function distinct(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const slot = admit(req, res);
    res.once('close', () => slot.release());
    const auth = await authenticated(req, slot);
    const request = await operationOf(req);
    let channel: Channel | undefined;
    const started = await startOperation(auth, request, () => (channel = newChannel(res, () => res.writableLength, () => void channel?.return())));
    if ('refusal' in started) return sendRefusal(res, started.refusal);
    slot.established();
    // A client may leave while its subscription is set up: its stream is stopped at once.
    if (res.destroyed || !res.writable) {
      if ('stream' in started) void started.stream.return();
      return;
    }
    const events = new EventStream(res);
    if ('errors' in started) {
      await events.send(nextEvent(started.errors));
    } else {
      const { stream } = started;
      res.once('close', () => void stream.return());
      watch(res, () => events.owed + stream.pendingBytes);
      for await (const frame of stream.frames()) {
        if (!(await events.send(nextEventOf(frame.json)))) break;
      }
    }
    await events.send(completeEvent());
    await events.end();
  }

  // ------------------------------------------------------------------------- single connection
  async function reserve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const token = randomUUID();
    // The slot is the reservation's: one that is not opened within the handshake bound is dropped.
    const slot = deps.connections.admit('sse', addressOf(req), () => {
      deps.onClosed({ transport: 'sse', reason: 'handshake timeout' });
      if (!res.writableEnded) cutResponse(res);
      if (!reservations.has(token)) slot.release();
      else if (!reservations.get(token)?.stream) drop(token);
    });
    let auth: A;
    try {
      auth = await authenticated(req, slot);
    } catch (error) {
      slot.release();
      throw error;
    }
    if (res.destroyed) return slot.release();
    reservations.set(token, { viewerId: auth.viewer.id, slot, ops: new Map() });
    res.writeHead(201, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(token);
  }

  function drop(token: string): void {
    const reservation = reservations.get(token);
    if (!reservation) return;
    reservations.delete(token);
    for (const op of reservation.ops.values()) void op?.return();
    reservation.ops.clear();
    reservation.slot.release();
  }

  /** The caller's reservation, or a refusal that does not tell another viewer's token from none. */
  async function reservationOf(req: http.IncomingMessage, token: string): Promise<{ auth: A; reservation: Reservation }> {
    const auth = await authenticated(req);
    const reservation = reservations.get(token);
    if (!reservation || reservation.viewerId !== auth.viewer.id) {
      throw new BodyRefused({ status: 404, errors: [{ message: 'No event stream is reserved under this token (PUT first)', extensions: { code: 'NOT_FOUND' } }] });
    }
    return { auth, reservation };
  }

  async function openStream(req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
    const { reservation } = await reservationOf(req, token);
    // A client that left while it was authenticated takes its reservation along, as closing the
    // stream does (the close came before anything here listened for it).
    if (res.destroyed || !res.writable) return drop(token);
    if (reservation.stream) throw new BodyRefused({ status: 409, errors: [{ message: 'The event stream of this token is already open', extensions: { code: 'CONFLICT' } }] });
    reservation.slot.established();
    responses.add(res);
    const events = (reservation.stream = new EventStream(res));
    res.once('close', () => {
      responses.delete(res);
      drop(token);
    });
    watch(res, () => events.owed + [...reservation.ops.values()].reduce((sum, op) => sum + (op?.pendingBytes ?? 0), 0));
    for (const [id, op] of reservation.ops) if (op) void pump(reservation, id, op);
  }

  async function pump(reservation: Reservation, id: string, op: Channel): Promise<void> {
    const events = reservation.stream;
    if (!events) return;
    for await (const frame of op.frames()) {
      if (!(await events.send(nextEventOf(frame.json, id)))) return void op.return();
    }
    if (reservation.ops.get(id) === op) {
      reservation.ops.delete(id);
      await events.send(completeEvent(id));
    }
  }

  async function operate(req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
    if (!accepts(req, 'application/json') && !accepts(req, '*/*') && req.headers.accept !== undefined) {
      throw new BodyRefused(badRequest(406, 'accept', 'must be application/json (or text/event-stream to open the stream)'));
    }
    const { auth, reservation } = await reservationOf(req, token);
    const request = await operationOf(req);
    const extensions = request.extensions as { operationId?: unknown } | undefined;
    const id = extensions?.operationId;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) {
      throw new BodyRefused(badRequest(400, 'extensions.operationId', 'must be a string of 1 to 128 characters'));
    }
    if (reservation.ops.has(id)) throw new BodyRefused({ status: 409, errors: [{ message: `Operation ${id} already exists on this stream`, extensions: { code: 'CONFLICT' } }] });
    if (reservation.ops.size >= limits.maxSubscriptionsPerConnection) {
      const message = `A connection may hold at most ${limits.maxSubscriptionsPerConnection} subscriptions`;
      return refuse(res, limitError('subscription', message, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION'));
    }
    reservation.ops.set(id, null);
    const { extensions: _own, ...operation } = request;
    let channel: Channel | undefined;
    const started = await startOperation(auth, operation, () => (channel = newChannel(undefined, () => reservation.stream?.owed ?? 0, () => void channel?.return())));
    // Stopped (DELETE) or dropped while it was set up.
    if (reservation.ops.get(id) !== null || !reservations.has(token)) {
      if ('stream' in started) void started.stream.return();
      if ('refusal' in started) return sendRefusal(res, started.refusal);
      res.writeHead(204).end();
      return;
    }
    if ('refusal' in started) {
      reservation.ops.delete(id);
      return sendRefusal(res, started.refusal);
    }
    if ('errors' in started) {
      reservation.ops.delete(id);
      void reservation.stream?.send(nextEvent(started.errors, id)).then(() => reservation.stream?.send(completeEvent(id)));
    } else {
      reservation.ops.set(id, started.stream);
      if (reservation.stream) void pump(reservation, id, started.stream);
    }
    res.writeHead(202).end();
  }

  async function stop(req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
    const { reservation } = await reservationOf(req, token);
    const id = new URL(req.url ?? '', 'http://localhost/').searchParams.get('operationId');
    if (!id) throw new BodyRefused(badRequest(400, 'operationId', 'must name the operation to stop'));
    const op = reservation.ops.get(id);
    reservation.ops.delete(id);
    void op?.return();
    res.writeHead(200).end();
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!deps.originAllowed(req)) {
      deps.onClosed({ transport: 'sse', reason: 'origin not allowed' });
      return sendRefusal(res, { status: 403, errors: [{ message: 'This Origin may not open live connections (HUB_CORS_ORIGINS)', extensions: { code: 'FORBIDDEN' } }] });
    }
    const token = streamTokenOf(req);
    const eventStream = accepts(req, 'text/event-stream');
    if (token === undefined) {
      if (req.method === 'PUT') return reserve(req, res);
      if (eventStream) return distinct(req, res);
      throw new BodyRefused(badRequest(406, 'accept', 'must be text/event-stream (or PUT to reserve a single-connection stream)'));
    }
    if (eventStream && (req.method === 'GET' || req.method === 'POST')) return openStream(req, res, token);
    if (req.method === 'POST') return operate(req, res, token);
    if (req.method === 'DELETE') return stop(req, res, token);
    if (req.method === 'PUT') throw new BodyRefused({ status: 409, errors: [{ message: 'PUT reserves a new stream without a token', extensions: { code: 'CONFLICT' } }] });
    throw new BodyRefused({ ...badRequest(405, 'method', 'must be GET, POST, PUT or DELETE'), headers: { allow: 'GET, POST, PUT, DELETE' } });
  }

  let closed = false;
  const route: express.RequestHandler = (req, res) => {
    // A process that is stopping opens no stream: the client retries on another one.
    if (closed) {
      void sendRefusal(res, { status: 503, headers: { 'retry-after': '1' }, errors: [{ message: 'The server is shutting down; try again shortly', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      return;
    }
    if (!responses.has(res)) {
      responses.add(res);
      res.once('close', () => responses.delete(res));
    }
    handle(req, res).catch((error: unknown) => refuse(res, error));
  };
  deps.app.use(SSE_PATH, ...deps.middleware, route);

  return {
    /** Cuts every open stream (as a restart would). */
    drop() {
      for (const res of responses) cutResponse(res);
    },
    /** Ends every open stream (its subscriptions have ended with the hub). */
    close() {
      closed = true;
      for (const token of [...reservations.keys()]) drop(token);
      for (const res of responses) if (res.headersSent) res.end();
    },
  };
}
