/**
 * Issue #25, item 3 in headless Chromium: a page on a second loopback origin (another port) uses
 * the API as a browser enforces CORS. From an origin in HUB_CORS_ORIGINS its script reads the
 * answer and the headers the README documents (x-request-id, x-query-cost, x-sql-statements),
 * and subscribes over graphql-ws and SSE; from an origin not listed the same fetch fails as a CORS
 * failure, and neither live transport opens.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Browser, Page } from 'playwright-core';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { describeWithChromium, launchChromium } from '../support/chromium';

const describeWithBrowser = describeWithChromium('cross-origin browser tests');

/** A blank page served from its own port: a second origin on the loopback interface. */
async function pageServer(): Promise<{ origin: string; server: http.Server }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another origin</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface FetchOutcome {
  failed?: string;
  status?: number;
  data?: unknown;
  headers?: Record<string, string | null>;
}

/** In the page: POST a query with a bearer token (so the browser preflights), read the answer. */
function pageFetch(page: Page, url: string, token: string): Promise<FetchOutcome> {
  return page.evaluate(
    async ({ url, token }) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ me { id } }' }),
        });
        const body = (await response.json()) as { data?: unknown };
        const headers: Record<string, string | null> = {};
        for (const name of ['x-request-id', 'x-query-cost', 'x-sql-statements', 'content-type']) headers[name] = response.headers.get(name);
        return { status: response.status, data: body.data, headers };
      } catch (error) {
        return { failed: (error as Error).name };
      }
    },
    { url, token },
  );
}

/** In the page: a graphql-ws subscription (the protocol by hand); the first `next`, or how it closed. */
function pageWebSocket(page: Page, url: string, token: string, query: string): Promise<{ next?: unknown; closed?: number }> {
  return page.evaluate(
    ({ url, token, query }) =>
      new Promise<{ next?: unknown; closed?: number }>((resolve) => {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        socket.onmessage = (event) => {
          const message = JSON.parse(String(event.data));
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
          }
          if (message.type === 'next') {
            resolve({ next: message.payload });
            socket.close();
          }
        };
        socket.onclose = (event) => resolve({ closed: event.code });
      }),
    { url, token, query },
  );
}

/** In the page: a graphql-sse subscription (distinct connections mode) read from fetch's stream. */
function pageSse(page: Page, url: string, token: string, query: string): Promise<{ next?: unknown; failed?: string; status?: number }> {
  return page.evaluate(
    async ({ url, token, query }) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        });
        if (!response.ok || !response.body) return { status: response.status };
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return { status: response.status };
          text += value;
          const match = /event: next\ndata: (.*)\n/.exec(text);
          if (match) {
            void reader.cancel();
            return { next: JSON.parse(match[1]) };
          }
        }
      } catch (error) {
        return { failed: (error as Error).name };
      }
    },
    { url, token, query },
  );
}

describeWithBrowser('a page on another origin (headless Chromium)', () => {
  let browser: Browser;
  let allowed: { origin: string; server: http.Server };
  let stranger: { origin: string; server: http.Server };
  let t: TestServer;
  let owner: User;
  beforeAll(async () => {
    allowed = await pageServer();
    stranger = await pageServer();
    t = await startTestServer({ HUB_CORS_ORIGINS: allowed.origin });
    owner = await factories(t.dataSource).user();
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    allowed?.server.close();
    stranger?.server.close();
  });

  async function open(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  /** Creates a session once the hub counts more subscribers than `before`. */
  async function writeOnceSubscribed(before: number): Promise<string> {
    const deadline = Date.now() + 15_000;
    while (t.server.live.hub.subscriberCount <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const created = await t.gql('mutation { createSession(input: { title: "seen across origins" }) { id } }', {}, { as: owner });
    return created.data.createSession.id;
  }

  it('lets an allowed origin read the answer and the documented headers', async () => {
    const page = await open(allowed.origin);
    try {
      const outcome = await pageFetch(page, t.url, t.tokenFor(owner));
      expect(outcome.failed).toBeUndefined();
      expect(outcome.status).toBe(200);
      expect(outcome.data).toEqual({ me: { id: owner.id } });
      expect(outcome.headers!['x-request-id']).toMatch(/^[\w.:-]+$/);
      expect(Number(outcome.headers!['x-query-cost'])).toBeGreaterThan(0);
      expect(Number(outcome.headers!['x-sql-statements'])).toBeGreaterThan(0);
      expect(outcome.headers!['content-type']).toMatch(/^application\/json/);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('refuses a page on an origin not listed: the fetch is a CORS failure', async () => {
    const page = await open(stranger.origin);
    try {
      expect(await pageFetch(page, t.url, t.tokenFor(owner))).toEqual({ failed: 'TypeError' });
    } finally {
      await page.close();
    }
  }, 60_000);

  it.each(['ws', 'sse'] as const)('delivers a subscription over %s to an allowed origin, and opens none for another', async (transport) => {
    const query = 'subscription { sessionChanged { kind sessionId } }';
    const subscribe = (page: Page) =>
      transport === 'ws' ? pageWebSocket(page, t.url.replace(/^http/, 'ws'), t.tokenFor(owner), query) : pageSse(page, `${t.url}/stream`, t.tokenFor(owner), query);
    const page = await open(allowed.origin);
    try {
      const before = t.server.live.hub.subscriberCount;
      const received = subscribe(page);
      const sessionId = await writeOnceSubscribed(before);
      // A member sees only their own sessions' changes: other test files' writes do not reach this one.
      expect(await received).toEqual({ next: { data: { sessionChanged: { kind: 'CREATED', sessionId } } } });
    } finally {
      await page.close();
    }
    const strangerPage = await open(stranger.origin);
    try {
      const outcome = await subscribe(strangerPage);
      // A WebSocket refused at the upgrade closes abnormally (1006); the SSE fetch fails its preflight.
      expect(outcome).toEqual(transport === 'ws' ? { closed: 1006 } : { failed: 'TypeError' });
    } finally {
      await strangerPage.close();
    }
  }, 90_000);
});
