import http from 'node:http';
import { GraphQLFormattedError } from 'graphql';
import { ClientGone } from '../http/client-errors';
import { OperationRequest } from './operation';

/** The largest request body, as for POST /graphql. */
export const SSE_BODY_LIMIT = 256 * 1024;

/** The header (or `token` URL parameter) naming a single-connection reservation (graphql-sse). */
export const STREAM_TOKEN_HEADER = 'x-graphql-event-stream-token';

/** How often an open event stream gets a comment line, so proxies and clients see it alive. */
const PING_MS = 12_000;

/** A refusal in the API's JSON error shape. */
export interface Refusal {
  status: number;
  errors: GraphQLFormattedError[];
  headers?: Record<string, string>;
}

/** Bad input the SSE protocol itself refuses: BAD_USER_INPUT naming the field, like POST /graphql. */
export function badRequest(status: number, field: string, message: string): Refusal {
  return { status, errors: [{ message: `${field}: ${message}`, extensions: { code: 'BAD_USER_INPUT', validation: [{ field, message }] } }] };
}

export function sendRefusal(res: http.ServerResponse, refusal: Refusal): Promise<void> {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return Promise.resolve();
  }
  const body = JSON.stringify({ errors: refusal.errors });
  // A body left unread (refused before it was read) would keep the socket open until it came:
  // the connection closes with the answer.
  const unread = res.req !== undefined && !res.req.complete;
  res.writeHead(refusal.status, { ...refusal.headers, ...(unread ? { connection: 'close' } : {}), 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  return new Promise((resolve) => res.end(body, () => resolve()));
}

export class BodyRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.errors[0]?.message);
  }
}

/** The request body, at most SSE_BODY_LIMIT bytes (more: 413). A client that stops sending is
 * cut off by its connection's handshake bound (LiveConnections), which destroys the request; a
 * request that closes (or is reset) before its body ended rejects with ClientGone. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > SSE_BODY_LIMIT) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyRefused(badRequest(413, 'body', `must be at most ${SSE_BODY_LIMIT} bytes`)));
        return;
      }
      chunks.push(chunk);
    });
    req.once('error', () => reject(new ClientGone('request body')));
    req.once('close', () => reject(new ClientGone('request body')));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function jsonParam(params: URLSearchParams, name: string): unknown {
  const raw = params.get(name);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new BodyRefused(badRequest(400, name, 'must be JSON'));
  }
}

/**
 * The operation of a request: from the URL (GET) or the JSON body (POST). Only the shape is
 * checked here (an object; `variables` and `extensions` objects); the text, `documentId` and
 * everything else are the live start's checks, the same as on every transport.
 */
export async function operationOf(req: http.IncomingMessage): Promise<OperationRequest> {
  let request: Record<string, unknown>;
  if (req.method === 'GET') {
    const params = new URL(req.url ?? '', 'http://localhost/').searchParams;
    request = {
      query: params.get('query') ?? undefined,
      documentId: params.get('documentId') ?? undefined,
      operationName: params.get('operationName') ?? undefined,
      variables: jsonParam(params, 'variables'),
      extensions: jsonParam(params, 'extensions'),
    };
  } else if (req.method === 'POST') {
    if (!String(req.headers['content-type'] ?? '').includes('application/json')) {
      throw new BodyRefused(badRequest(415, 'content-type', 'must be application/json'));
    }
    const text = await readBody(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BodyRefused(badRequest(400, 'body', 'must be JSON'));
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyRefused(badRequest(400, 'body', 'must be a JSON object'));
    request = { ...parsed };
  } else {
    throw new BodyRefused({ ...badRequest(405, 'method', 'must be POST (or GET with the operation in the URL)'), headers: { allow: 'GET, POST, PUT, DELETE' } });
  }
  for (const field of ['variables', 'extensions'] as const) {
    const value = request[field];
    if (value != null && (typeof value !== 'object' || Array.isArray(value))) throw new BodyRefused(badRequest(400, field, 'must be an object'));
  }
  return request;
}

/** `event: next` / `event: complete` as graphql-sse's clients parse them. */
export function nextEvent(payload: unknown, id?: string): string {
  return nextEventOf(JSON.stringify(payload), id);
}

/** `event: next` around a result already serialized (the hub serializes each result once). */
export function nextEventOf(json: string, id?: string): string {
  return `event: next\ndata: ${id === undefined ? json : `{"id":${JSON.stringify(id)},"payload":${json}}`}\n\n`;
}

export function completeEvent(id?: string): string {
  return id === undefined ? 'event: complete\ndata:\n\n' : `event: complete\ndata: ${JSON.stringify({ id })}\n\n`;
}

/**
 * One open `text/event-stream` response. Writes go one at a time, each after the socket took
 * the previous one, so what this response buffers is at most one event (what a slow reader
 * owes waits in its channels, where the buffer limit counts it); `owed` is what the socket has
 * not taken yet, for the stall watch.
 */
export class EventStream {
  private tail: Promise<boolean> = Promise.resolve(true);
  private readonly pinger: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly res: http.ServerResponse) {
    res.writeHead(200, {
      connection: 'keep-alive',
      'cache-control': 'no-cache',
      'content-encoding': 'none',
      'content-type': 'text/event-stream; charset=utf-8',
      // No proxy buffering: events are meant to arrive as they happen.
      'x-accel-buffering': 'no',
    });
    // Some browsers show nothing until the first bytes.
    void this.send(':\n\n');
    this.pinger = setInterval(() => {
      if (this.res.writableLength === 0) void this.send(':\n\n');
    }, PING_MS);
    this.pinger.unref();
    res.once('close', () => this.close());
  }

  get isOpen(): boolean {
    return !this.closed && this.res.writable;
  }

  get owed(): number {
    return this.res.writableLength;
  }

  /** Queues one event after those before it; resolves false once the stream cannot take more. */
  send(event: string): Promise<boolean> {
    this.tail = this.tail.then((ok) => {
      if (!ok || !this.isOpen) return false;
      return new Promise<boolean>((resolve) => this.res.write(event, (error) => resolve(!error)));
    });
    return this.tail;
  }

  /** Ends the response after what is queued. */
  async end(): Promise<void> {
    await this.tail;
    this.close();
    if (!this.res.writableEnded) await new Promise<void>((resolve) => this.res.end(() => resolve()));
  }

  private close(): void {
    this.closed = true;
    clearInterval(this.pinger);
  }
}
