import http from 'node:http';
import { CloseCode, handleProtocols, makeServer, ServerOptions } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';

/** What the glue reports instead of writing to the console. */
export interface WsGlueEvents {
  /** A frame the WebSocket protocol refuses (invalid UTF-8, too large, bad framing): the ws
   * library has already closed the connection with 1007, 1009 or 1002. */
  onProtocolError(error: Error): void;
  /** Handling a message failed in the server itself: the connection is closed with 4500. */
  onInternalError(error: unknown): void;
}

/** What graphql-ws's callbacks find in `ctx.extra`. */
export interface WsExtra {
  socket: WebSocket;
  request: http.IncomingMessage;
}

/**
 * graphql-ws requires `payload.query` to be a string, so a subscribe naming only a trusted
 * document (`documentId`, codegen's persisted documents) was closed 4400 before any check ran:
 * such a message gets `query: ""`, which the live start reads as "no text" (documentRequest).
 */
function withDocumentIdQuery(text: string): string {
  if (!text.includes('"documentId"')) return text;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return text; // graphql-ws answers malformed JSON itself
  }
  if (typeof message !== 'object' || message === null || !('type' in message) || message.type !== 'subscribe' || !('payload' in message)) return text;
  const { payload } = message;
  // Only a document id given (not null) stands in for the text; `documentId: null` names nothing.
  if (typeof payload !== 'object' || payload === null || 'query' in payload || !('documentId' in payload) || payload.documentId == null) return text;
  return JSON.stringify({ ...message, payload: { ...payload, query: '' } });
}

/**
 * Whether this process began closing `socket`: a close() or terminate() called before the
 * client's own close frame came. ws itself calls close() to answer a client's close frame;
 * its `_closeFrameReceived` (ws 8, read here only) tells that answer from a close of ours.
 */
export function closesBegunHere(socket: WebSocket): () => boolean {
  let here = false;
  const received = () => (socket as unknown as { _closeFrameReceived?: boolean })._closeFrameReceived === true;
  const { close, terminate } = socket;
  socket.close = (...args: Parameters<WebSocket['close']>) => {
    if (!received()) here = true;
    close.apply(socket, args);
  };
  socket.terminate = () => {
    here = true;
    terminate.call(socket);
  };
  return () => here;
}

/** How often an idle connection is pinged; one that does not answer by the next ping is cut. */
const KEEP_ALIVE_MS = 12_000;

/** A close reason within the 123 bytes a close frame holds (ws throws past them): graphql-ws
 * puts client-chosen text in some reasons, such as a duplicate subscription id. */
function closeReason(reason: string | undefined): string | undefined {
  if (reason === undefined || Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(`${cut}…`) > 123) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * graphql-ws's server on a `ws` WebSocketServer, in place of `graphql-ws/use/ws`, which answers
 * a client's protocol mistakes as its own failures: a message of a type the client may not send
 * (`next`, `connection_ack`, `error`) throws inside graphql-ws and closed the socket with 4500
 * "Internal server error", and every frame the ws library refuses was logged as an internal error.
 * Here the first is 4400 Bad Request, as the graphql-transport-ws protocol has it for "a message
 * of a type or format not specified", the second is reported as a client's protocol error, and
 * only real failures are internal (4500, reported). Close reasons are cut to what a close frame
 * holds: a reason naming a client's 5,000-character id threw inside ws, and closed with 4500.
 */
export function useGraphqlWs(options: ServerOptions<Record<string, unknown>, WsExtra>, wss: WebSocketServer, events: WsGlueEvents) {
  const server = makeServer<Record<string, unknown>, WsExtra>(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    socket.once('error', (error) => {
      if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) events.onProtocolError(error);
      else {
        events.onInternalError(error);
        socket.close(CloseCode.InternalServerError, 'Internal server error');
      }
    });
    let pongWait: NodeJS.Timeout | undefined;
    const pingInterval = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEP_ALIVE_MS);
      socket.once('pong', () => clearTimeout(pongWait));
      socket.ping();
    }, KEEP_ALIVE_MS);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        // A write that fails means the socket is gone (the client closed or reset it while a
        // result was on its way): the close ends the connection's streams. Rejecting would make
        // graphql-ws report the client's departure as the subscription's error ("unexpected
        // error", or its ECONNRESET taken for the database's).
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== WebSocket.OPEN) return resolve();
            socket.send(data, () => resolve());
          }),
        close: (code, reason) => socket.close(code, closeReason(reason)),
        onMessage: (cb) =>
          socket.on('message', async (data) => {
            try {
              await cb(withDocumentIdQuery(String(data)));
            } catch (error) {
              const message = (error as Error)?.message ?? '';
              if (/^Unexpected message of type /.test(message)) socket.close(CloseCode.BadRequest, closeReason(message));
              else {
                events.onInternalError(error);
                socket.close(CloseCode.InternalServerError, 'Internal server error');
              }
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearTimeout(pongWait);
      clearInterval(pingInterval);
      void closed(code, String(reason));
    });
  });
  return {
    /** Closes every connection (1001) and the server. */
    async dispose(): Promise<void> {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
