import http from 'node:http';
import net from 'node:net';

export interface RawAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: any;
  headers: http.IncomingHttpHeaders;
  /** Set when no answer came (the server closed the connection): never expected. */
  network?: string;
}

/**
 * One HTTP request with exactly the bytes and headers given (fetch would refuse some headers,
 * sizes and encodings a hostile client can send). Never throws.
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: options.method ?? 'POST', headers: options.headers, timeout: 20_000, maxHeaderSize: 256 * 1024 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
      });
      res.on('error', (error) => resolve({ status: 0, text: '', headers: {}, network: String(error) }));
    });
    req.on('timeout', () => req.destroy(new Error('TIMEOUT')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, text: '', headers: {}, network: error.code ?? error.message }));
    req.end(options.body);
  });
}

/**
 * One HTTP/1.1 request written byte for byte on a socket: header values may hold any byte (NUL,
 * CR, obs-text, invalid UTF-8), which no HTTP client library will send. `Connection: close` is
 * added, and the answer is read until the server closes. Never throws.
 */
export function rawSocketRequest(url: string, options: { method?: string; headers?: [string, Buffer | string][]; body?: Buffer | string } = {}): Promise<RawAnswer> {
  const target = new URL(url);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const lines: Buffer[] = [Buffer.from(`${options.method ?? 'POST'} ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\nconnection: close\r\n`)];
  for (const [name, value] of options.headers ?? []) lines.push(Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n')]));
  if (options.method !== 'GET') lines.push(Buffer.from(`content-length: ${body.length}\r\n`));
  lines.push(Buffer.from('\r\n'), body);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(target.port), target.hostname);
    socket.setTimeout(20_000, () => socket.destroy(new Error('TIMEOUT')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, text: '', headers: {}, network: error.code ?? error.message }));
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0) return resolve({ status: 0, text: raw.toString('latin1'), headers: {}, network: raw.length ? 'MALFORMED_RESPONSE' : 'EMPTY_RESPONSE' });
      const [statusLine, ...headerLines] = raw.subarray(0, split).toString('latin1').split('\r\n');
      const headers: http.IncomingHttpHeaders = {};
      for (const line of headerLines) headers[line.slice(0, line.indexOf(':')).trim().toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      let payload: Buffer = raw.subarray(split + 4);
      if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) payload = dechunk(payload);
      const text = payload.toString('utf8');
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine.split(' ')[1]), text, json, headers });
    });
    // Written, not ended: a half-closed socket may be closed before its answer; `connection: close` ends it.
    socket.write(Buffer.concat(lines));
  });
}

function dechunk(payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < payload.length) {
    const end = payload.indexOf('\r\n', at);
    const size = parseInt(payload.subarray(at, end).toString('latin1'), 16);
    if (!size) break;
    parts.push(payload.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** What every answer to a hostile input must be: data, or a 4xx in the API's error shape with a known, non-internal code. */
export function problemWith(answer: RawAnswer): string | undefined {
  if (answer.network) return `no answer: ${answer.network}`;
  if (answer.status >= 500) return `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (answer.status >= 400) {
    const errors = answer.json?.errors;
    if (!Array.isArray(errors) || errors.length === 0) return `HTTP ${answer.status} outside the JSON error format: ${answer.text.slice(0, 200)}`;
    for (const e of errors) {
      const code = e?.extensions?.code;
      if (!['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT'].includes(code)) return `HTTP ${answer.status} with code ${code}: ${JSON.stringify(e).slice(0, 300)}`;
    }
    return undefined;
  }
  if (answer.json?.data === undefined && answer.json?.errors === undefined) return `HTTP ${answer.status} without data or errors: ${answer.text.slice(0, 200)}`;
  for (const e of answer.json?.errors ?? []) {
    if (e?.extensions?.code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR: ${JSON.stringify(e).slice(0, 300)}`;
  }
  return undefined;
}
