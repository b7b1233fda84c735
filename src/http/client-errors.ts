import http from 'node:http';
import { Duplex } from 'node:stream';
import { RequestHandler } from 'express';
import { ErrorCode } from '../errors';
import { Logger } from '../logger';

/**
 * The one log line of a client that went away before its exchange ended (an aborted body, a
 * socket closed before or during the answer, an event stream or a WebSocket it closed): info, or
 * debug where leaving is the normal end (an event stream, a WebSocket closed cleanly and idle).
 * Never an error: nothing is wrong with the server, and nobody reads an answer.
 */
export const CLIENT_LEFT = 'client went away';

/** Where in the exchange the client left: the `during` field of CLIENT_LEFT. */
export type Departure = 'request head' | 'request body' | 'processing' | 'response' | 'event stream' | 'websocket';

/** Thrown where a read finds the client gone: the request closed before its body ended. */
export class ClientGone extends Error {
  readonly code = 'CLIENT_GONE';
  constructor(readonly during: Departure) {
    super(`the client went away during the ${during}`);
  }
}

/**
 * True when an error says the client's own connection ended, never the database's: ClientGone,
 * Node's aborted request (`ECONNRESET` "aborted", which `isDatabaseUnavailable` would otherwise
 * take for a lost PostgreSQL socket), body-parser's `request.aborted`, a stream closed early.
 */
export function isClientGone(error: unknown): boolean {
  type Wrapped = { code?: unknown; message?: unknown; type?: unknown; originalError?: unknown; cause?: unknown };
  let e: Wrapped | undefined = typeof error === 'object' && error !== null ? error : undefined;
  for (let depth = 0; e && depth < 5; depth += 1) {
    if (e instanceof ClientGone || e.type === 'request.aborted' || e.code === 'ERR_STREAM_PREMATURE_CLOSE') return true;
    if (e.code === 'ECONNRESET' && e.message === 'aborted') return true;
    const next: unknown = e.originalError ?? e.cause;
    e = typeof next === 'object' && next !== null ? next : undefined;
  }
  return false;
}

/** Responses the server itself cut (a slow consumer, a restart): not a client's departure. */
const cutByServer = new WeakSet<http.ServerResponse>();

/** Marks a response the server is about to end early on its own decision (a timeout), so its
 * close is not logged as the client leaving. */
export function markCutByServer(res: http.ServerResponse): void {
  cutByServer.add(res);
}

/** Destroys a response on the server's own decision, not logged as the client leaving. */
export function cutResponse(res: http.ServerResponse): void {
  markCutByServer(res);
  res.destroy();
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The fields of CLIENT_LEFT for an HTTP exchange: route, stage, and the caller's request id if sane. */
function departureOf(req: http.IncomingMessage, res: http.ServerResponse): Record<string, unknown> {
  const during: Departure = !req.complete
    ? 'request body'
    : !res.headersSent
      ? 'processing'
      : String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')
        ? 'event stream'
        : 'response';
  const path = (req.url ?? '').split('?')[0];
  const requestId = req.headers['x-request-id'];
  return {
    method: req.method,
    path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
    during,
    ...(typeof requestId === 'string' && REQUEST_ID.test(requestId) ? { requestId } : {}),
  };
}

/**
 * Logs, once per request, a client that closed its connection before the answer was complete:
 * every route (POST and GET /graphql, /graphql/stream, uploads) at one place. The routes
 * themselves stop quietly when they find the client gone (ClientGone, isClientGone).
 */
export function clientDepartures(logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.once('close', () => {
      if (res.writableFinished || cutByServer.has(res)) return;
      const fields = departureOf(req, res);
      if (fields.during === 'event stream') logger.debug(fields, CLIENT_LEFT);
      else logger.info(fields, CLIENT_LEFT);
    });
    next();
  };
}

/** Node's parser errors worth their own status; every other one is a 400. */
const STATUS_BY_CODE: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'Request not received in time'],
  HPE_URI_TOO_LONG: [414, 'URI Too Long', 'Request URL too long'],
};

/**
 * Answers the requests Node's HTTP parser rejects before any route sees them (headers over
 * `maxHeaderSize`, malformed request lines) in the API's JSON error shape, instead of Node's
 * bare status line: every byte a client controls ends in a coded 4xx. A client that left in the
 * middle of its request head is logged at debug (CLIENT_LEFT) and not answered.
 */
export function answerClientErrors(server: http.Server, logger?: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
      logger?.debug({ during: 'request head', code: error.code }, CLIENT_LEFT);
      socket.destroy();
      return;
    }
    const [status, reason, message] = STATUS_BY_CODE[error.code ?? ''] ?? [400, 'Bad Request', 'Malformed HTTP request'];
    const body = JSON.stringify({
      errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT, validation: [{ field: 'request', message }] } }],
    });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
