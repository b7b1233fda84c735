import http from 'node:http';
import { createHandler, HandlerOptions } from 'graphql-sse';

/** The largest request body, as for POST /graphql. */
export const SSE_BODY_LIMIT = 256 * 1024;

interface Refusal {
  status: number;
  field: string;
  message: string;
}

/** What graphql-sse refuses with its own words (no code), by status and message. */
function refusalOf(status: number, message: string): Refusal {
  if (status === 404) {
    // graphql-sse's "single connection mode" answer; only distinct connections are served.
    return { status: 406, field: 'accept', message: 'must be text/event-stream: each subscription is its own request and stream' };
  }
  if (status === 405) return { status, field: 'method', message: 'must be POST (or GET with the operation in the URL)' };
  if (status === 406) return { status, field: 'accept', message: 'must be text/event-stream' };
  if (status === 415) return { status, field: 'content-type', message: 'must be application/json' };
  const field = /variables/i.test(message) ? 'variables' : /extensions/i.test(message) ? 'extensions' : /query/i.test(message) ? 'query' : /URL/.test(message) ? 'url' : 'body';
  return { status: status >= 400 && status < 500 ? status : 400, field, message };
}

function refuse(res: http.ServerResponse, refusal: Refusal): Promise<void> {
  const body = JSON.stringify({
    errors: [{ message: `${refusal.field}: ${refusal.message}`, extensions: { code: 'BAD_USER_INPUT', validation: [{ field: refusal.field, message: refusal.message }] } }],
  });
  res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  return new Promise((resolve) => res.end(body, () => resolve()));
}

/** Whether a JSON error body already speaks the API's vocabulary (every error has a code). */
function isCoded(body: string): boolean {
  try {
    const errors = JSON.parse(body)?.errors;
    return Array.isArray(errors) && errors.length > 0 && errors.every((e) => typeof e?.extensions?.code === 'string');
  } catch {
    return false;
  }
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('error', reject);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * graphql-sse's handler over node:http, in place of its own adapter (`graphql-sse/lib/use/http`),
 * which reads a body of any size and answers malformed requests with errors that have no code.
 * Here the body is read up to SSE_BODY_LIMIT (more: 413) and parsed once; whatever graphql-sse
 * refuses by itself (a body that is not an object, no query, variables that are not an object,
 * a method, media type or Accept it does not serve) is a 4xx BAD_USER_INPUT with `validation`,
 * like every bad input to POST /graphql. Streams are written as the adapter writes them.
 */
export function createSseHandler<Context extends { res: http.ServerResponse }>(options: HandlerOptions<http.IncomingMessage, Context>) {
  const handler = createHandler<http.IncomingMessage, Context>(options);
  return async (req: http.IncomingMessage, res: http.ServerResponse, context: Context): Promise<void> => {
    // A client may leave while its subscription is being set up (authentication, registration):
    // then the stream it gets is stopped at once, or it would stay registered with nobody reading.
    let gone = false;
    res.once('close', () => (gone = true));
    let text: string;
    try {
      text = await readBody(req, SSE_BODY_LIMIT);
    } catch (error) {
      if (error instanceof BodyTooLarge) return refuse(res, { status: 413, field: 'body', message: `must be at most ${SSE_BODY_LIMIT} bytes` });
      res.destroy();
      return;
    }
    let body: Record<PropertyKey, unknown> | null = null;
    if (req.method === 'POST' && String(req.headers['content-type'] ?? '').includes('application/json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return refuse(res, { status: 400, field: 'body', message: 'must be JSON' });
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return refuse(res, { status: 400, field: 'body', message: 'must be a JSON object' });
      body = parsed as Record<PropertyKey, unknown>;
    }
    const [result, init] = await handler({
      method: req.method ?? 'GET',
      url: req.url ?? '',
      headers: {
        get(key) {
          const header = req.headers[key];
          return Array.isArray(header) ? header.join('\n') : header;
        },
      },
      body,
      raw: req,
      context,
    });
    if (!result || typeof result === 'string') {
      if (init.status >= 400 && !(result && isCoded(result))) {
        let message = http.STATUS_CODES[init.status] ?? 'refused';
        try {
          message = String(JSON.parse(result ?? '')?.errors?.[0]?.message ?? message);
        } catch {
          // no JSON body: the status says it
        }
        return refuse(res, refusalOf(init.status, message));
      }
      res.writeHead(init.status, init.statusText, init.headers);
      return new Promise((resolve) => res.end(result ?? undefined, () => resolve()));
    }
    const stop = () => void result.return?.(undefined);
    if (gone) return stop();
    res.writeHead(init.status, init.statusText, init.headers);
    res.once('close', stop);
    for await (const value of result) {
      // The response's close event may come late: stop writing once it cannot take more.
      if (!res.writable) break;
      const failed = await new Promise<boolean>((resolve) => res.write(value, (error) => resolve(Boolean(error))));
      if (failed) break;
    }
    res.off('close', stop);
    await new Promise<void>((resolve) => res.end(() => resolve()));
  };
}
