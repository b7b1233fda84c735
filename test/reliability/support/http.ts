/** A small GraphQL-over-HTTP client that never throws: a network failure or a timeout is a result too. */

export const API_CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'INTERNAL_SERVER_ERROR'];

export interface HttpResult {
  /** HTTP status; 0 when no response arrived (see `network`). */
  status: number;
  /** The parsed JSON body, if it was JSON. */
  body?: any;
  text?: string;
  /** `extensions.code` of each GraphQL error ('<none>' for an error without one). */
  codes: string[];
  messages: string[];
  /** The network failure (ECONNREFUSED, ECONNRESET, TIMEOUT, ...) when no response arrived. */
  network?: string;
  startedAt: number;
  endedAt: number;
  headers?: Headers;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is (a string) or JSON-encoded. */
  body?: unknown;
  timeoutMs?: number;
}

function networkCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string; name?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'TIMEOUT';
  return e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'UNKNOWN';
}

export async function request(url: string, options: RequestOptions = {}): Promise<HttpResult> {
  const startedAt = Date.now();
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  try {
    const response = await fetch(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const errors: any[] = Array.isArray(parsed?.errors) ? parsed.errors : [];
    return {
      status: response.status,
      body: parsed,
      text,
      codes: errors.map((e) => (typeof e?.extensions?.code === 'string' ? e.extensions.code : '<none>')),
      messages: errors.map((e) => String(e?.message)),
      startedAt,
      endedAt: Date.now(),
      headers: response.headers,
    };
  } catch (error) {
    return { status: 0, codes: [], messages: [], network: networkCode(error), startedAt, endedAt: Date.now() };
  }
}

/** POSTs a GraphQL operation with a bearer token. */
export function gql(
  url: string,
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  timeoutMs?: number,
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  return request(url, { headers, body: { query, variables }, timeoutMs });
}

/** A 200 answer with data and no errors. */
export function succeeded(result: HttpResult): boolean {
  return result.status === 200 && result.codes.length === 0 && result.body?.data != null;
}
