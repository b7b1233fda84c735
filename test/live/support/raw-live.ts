import WebSocket from 'ws';
import { sleep } from './clients';

/** How a live start ended: it ran (a subscriber registered), or was refused with these errors or this close. */
export type LiveOutcome = { ran: true } | { ran: false; status?: number; errors?: any[]; close?: { code: number; reason: string } };

/** The refusal's `extensions.reason` (or code) of an outcome, for comparisons across transports. */
export function reasonOf(outcome: LiveOutcome): string {
  if (outcome.ran) return 'ran';
  if (outcome.close) return `close ${outcome.close.code}`;
  const [first] = outcome.errors ?? [];
  return String(first?.extensions?.reason ?? first?.extensions?.code ?? `status ${outcome.status}`);
}

async function registered(hub: { subscriberCount: number }, before: number, settled: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hub.subscriberCount > before) return true;
    if (settled()) return false;
    await sleep(5);
  }
  return false;
}

/** Waits until the hub is back to `count` subscribers (the client left). */
export async function settledTo(hub: { subscriberCount: number }, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (hub.subscriberCount > count && Date.now() < deadline) await sleep(5);
}

/**
 * One raw graphql-transport-ws subscribe with exactly `payload` (the library client insists on a
 * `query` string): connection_init with the token, then the subscribe; the outcome is the first
 * `error` message, a close, or the subscriber registering.
 */
export async function wsSubscribe(url: string, token: string, payload: unknown, hub: { subscriberCount: number }, headers: Record<string, string> = {}): Promise<LiveOutcome> {
  const before = hub.subscriberCount;
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
  let outcome: LiveOutcome | undefined;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload }));
    else if (message.type === 'error') outcome ??= { ran: false, errors: message.payload };
    else if (message.type === 'next' && message.payload?.errors) outcome ??= { ran: false, errors: message.payload.errors };
  });
  socket.on('unexpected-response', (_req, res) => (outcome ??= { ran: false, status: res.statusCode }));
  socket.on('close', (code, reason) => (outcome ??= { ran: false, close: { code, reason: String(reason) } }));
  socket.on('error', () => undefined);
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  const ran = await registered(hub, before, () => outcome !== undefined, 10_000);
  socket.terminate();
  await settledTo(hub, before);
  if (ran) return { ran: true };
  return outcome ?? { ran: false, errors: [{ message: 'no answer in 10 s' }] };
}

/** One SSE request (distinct connections) with exactly `body`; a 200 event stream ran. */
export async function sseSubscribe(url: string, token: string, body: unknown, hub: { subscriberCount: number }, headers: Record<string, string> = {}): Promise<LiveOutcome> {
  const before = hub.subscriberCount;
  const controller = new AbortController();
  try {
    const response = await fetch(`${url}/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const text = await response.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { ran: false, status: response.status, errors: json?.errors };
    }
    // An event stream: either the subscription registered, or its only event is the errors.
    const reader = response.body!.getReader();
    let text = '';
    let ended = false;
    void (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
    })()
      .catch(() => undefined)
      .finally(() => (ended = true));
    if (await registered(hub, before, () => ended, 10_000)) return { ran: true };
    const data = /data: (\{.*\})/.exec(text)?.[1];
    return { ran: false, status: response.status, errors: data ? JSON.parse(data).errors : [{ message: `no event: ${text.slice(0, 100)}` }] };
  } finally {
    controller.abort();
    await settledTo(hub, before);
  }
}
