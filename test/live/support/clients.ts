import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

/** What one subscription received: its results, its end, and the socket's close. */
export interface Received<T = any> {
  results: { data?: T; errors?: any[] }[];
  /** `complete` arrived (the server ended it normally, or after a final error result). */
  completed: boolean;
  /** An `error` message (before the stream started) or a transport failure. */
  error?: any;
  /** Resolves when at least `n` results arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the subscription completed or failed. */
  done(timeoutMs?: number): Promise<void>;
  stop(): void;
}

function receiver<T>(): Received<T> & { notify(): void; setStop(fn: () => void): void } {
  const waiters: (() => void)[] = [];
  let stopFn = () => {};
  const r: any = {
    results: [],
    completed: false,
    notify() {
      waiters.splice(0).forEach((w) => w());
    },
    setStop(fn: () => void) {
      stopFn = fn;
    },
    stop: () => stopFn(),
    waitFor(n: number, timeoutMs = 10_000) {
      return until(() => r.results.length >= n || r.completed || r.error !== undefined, timeoutMs, () => `${r.results.length} of ${n} results; error ${JSON.stringify(r.error)}`).then(() => {
        if (r.results.length < n) throw new Error(`ended after ${r.results.length} of ${n} results: ${JSON.stringify({ error: r.error, results: r.results })}`);
      });
    },
    done(timeoutMs = 10_000) {
      return until(() => r.completed || r.error !== undefined, timeoutMs, () => 'subscription still open');
    },
  };
  function until(check: () => boolean, timeoutMs: number, what: () => string) {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${what()}`)), timeoutMs);
      const test = () => {
        if (check()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(test);
      };
      test();
    });
  }
  return r;
}

export interface LiveWs {
  client: WsClient;
  /** The close event of the socket, once closed. */
  closed?: { code: number; reason: string };
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): Received<T>;
  dispose(): Promise<void>;
}

/** A graphql-ws client (the real one, over `ws`) on the server's /graphql, token in connectionParams. */
export function liveWs(graphqlUrl: string, token: string | null, options: { lazy?: boolean } = {}): LiveWs {
  const live: LiveWs = {} as LiveWs;
  live.client = createWsClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: options.lazy ?? true,
    retryAttempts: 0,
    // A server-side close is what some tests wait for; it is reported through `closed`.
    onNonLazyError: () => undefined,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    on: {
      closed: (event: any) => {
        live.closed = { code: event?.code, reason: String(event?.reason ?? '') };
      },
    },
  });
  live.subscribe = <T>(query: string, variables?: Record<string, unknown>) => {
    const r = receiver<T>();
    const unsubscribe = live.client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          r.results.push(value as any);
          r.notify();
        },
        error: (error) => {
          r.error = Array.isArray(error) ? error : error instanceof Error ? { message: error.message } : { code: (error as any)?.code, reason: (error as any)?.reason };
          r.notify();
        },
        complete: () => {
          r.completed = true;
          r.notify();
        },
      },
    );
    r.setStop(unsubscribe);
    return r;
  };
  live.dispose = async () => {
    await live.client.dispose();
  };
  return live;
}

/** A graphql-sse client (distinct connections) on /graphql/stream, token in the Authorization header. */
export function liveSse(graphqlUrl: string, token: string | null) {
  const client = createSseClient({
    url: `${graphqlUrl}/stream`,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  return {
    client,
    subscribe<T = any>(query: string, variables?: Record<string, unknown>): Received<T> {
      const r = receiver<T>();
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (value) => {
            r.results.push(value as any);
            r.notify();
          },
          error: (error) => {
            r.error = error instanceof Error ? { message: error.message } : error;
            r.notify();
          },
          complete: () => {
            r.completed = true;
            r.notify();
          },
        },
      );
      r.setStop(unsubscribe);
      return r;
    },
    dispose: () => client.dispose(),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the server's hub holds `n` subscribers (they are registered once LISTEN is active). */
export async function subscribed(hub: { subscriberCount: number }, n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (hub.subscriberCount < n) {
    if (Date.now() > deadline) throw new Error(`only ${hub.subscriberCount} of ${n} subscribers registered`);
    await sleep(10);
  }
}
