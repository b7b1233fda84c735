import http from 'node:http';

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
