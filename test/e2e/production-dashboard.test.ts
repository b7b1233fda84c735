/**
 * Issue #25, "done when": a production server (`NODE_ENV=production`, `HUB_TRUSTED_DOCUMENTS=require`,
 * a child process) serves the live dashboard (examples/live-dashboard) in headless Chromium, from
 * the page's own origin (listed in HUB_CORS_ORIGINS) with the documents of its generated manifest
 * only: the page renders the sessions and the charts, and changes live when a session is created
 * or a message posted. No request of the page carries document text.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { Browser } from 'playwright-core';
import { LIVE_DASHBOARD_PATH, liveDashboardAssets } from '../../src/live/dashboard-assets';
import { useTestServer } from '../harness';
import { ServerProcess, startServerProcess } from '../live/support/server-process';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { REPO_ROOT, tempDir } from '../support/child-server';

const describeWithBrowser = describeWithChromium('production dashboard browser test');
const { t, f } = useTestServer();

const MANIFEST = path.join(REPO_ROOT, 'examples', 'live-dashboard', 'gql', 'persisted-documents.json');
/** The writes this test makes, as a client team would ship them: in the manifest beside the dashboard's. */
const CREATE = 'mutation CreateSession($input: CreateSessionInput!) { createSession(input: $input) { id } }';
const POST = 'mutation PostMessage($input: PostMessageInput!) { postMessage(input: $input) { id } }';
const METRICS_TOKEN = 'metrics-token-of-the-production-dashboard-test';
const idOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describeWithBrowser('the live dashboard on a production server with HUB_TRUSTED_DOCUMENTS=require (headless Chromium)', () => {
  let browser: Browser;
  let hub: ServerProcess;
  let pages: http.Server;
  let pageOrigin: string;
  beforeAll(async () => {
    // The page's origin: the dashboard's files served by a static server of their own (as a
    // production hub does not serve them), on another port.
    pages = http.createServer(express().use(LIVE_DASHBOARD_PATH, liveDashboardAssets()));
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    const dashboard = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
    const manifest = path.join(tempDir('hub-manifest-'), 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ ...dashboard, [idOf(CREATE)]: CREATE, [idOf(POST)]: POST }));
    hub = await startServerProcess({
      NODE_ENV: 'production',
      HUB_TRUSTED_DOCUMENTS: 'require',
      HUB_TRUSTED_DOCUMENTS_FILE: manifest,
      HUB_CORS_ORIGINS: pageOrigin,
      HUB_METRICS_TOKEN: METRICS_TOKEN,
    });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    pages?.close();
  });

  /** The hub's active subscriptions, from its /metrics. */
  async function liveSubscriptions(): Promise<number> {
    const response = await fetch(`${hub.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const lines = (await response.text()).split('\n').filter((line) => line.startsWith('hub_live_subscriptions'));
    return lines.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  it('renders the sessions and charts by document id and changes live on a new session and a posted message', async () => {
    const owner = await f.user({ displayName: 'Production Owner' });
    const token = t.tokenFor(owner);
    const run = async (document: string, variables: Record<string, unknown>) => {
      const response = await fetch(hub.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ documentId: idOf(document), variables }),
      });
      return (await response.json()) as { data?: any; errors?: { extensions?: { reason?: string } }[] };
    };
    // The mode is what it says: text does not run.
    const text = await fetch(hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(((await text.json()) as { errors: { extensions: { reason: string } }[] }).errors[0].extensions.reason).toBe('TRUSTED_DOCUMENT_REQUIRED');

    const first = await run(CREATE, { input: { title: 'Before the page' } });
    const sessionId = first.data.createSession.id as string;

    const page = await browser.newPage();
    const bodies: string[] = [];
    const frames: string[] = [];
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(hub.url) && request.method() === 'POST') bodies.push(request.postData() ?? '');
      if (!url.startsWith(pageOrigin) && !url.startsWith(hub.baseUrl)) elsewhere.push(url);
    });
    page.on('websocket', (socket) => socket.on('framesent', ({ payload }) => frames.push(String(payload))));
    try {
      await page.goto(`${pageOrigin}${LIVE_DASHBOARD_PATH}/?hub=${encodeURIComponent(hub.baseUrl)}&token=${token}`);
      await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 });
      const row = page.locator(`tr[data-session-id="${sessionId}"]`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.innerText()).toContain('Production Owner');
      await page.locator('#activity-chart svg[role="img"]').waitFor({ state: 'attached', timeout: 10_000 });
      await page.locator('#sync-chart svg[role="img"]').waitFor({ state: 'attached', timeout: 10_000 });
      // Both subscriptions (the table's and the charts') are registered before the writes.
      const deadline = Date.now() + 15_000;
      while ((await liveSubscriptions()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await liveSubscriptions()).toBe(2);

      const posted = await run(POST, { input: { sessionId, role: 'ASSISTANT', content: 'Seen in production' } });
      expect(posted.errors).toBeUndefined();
      await row.locator('[data-field="messageCount"]', { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
      await row.locator('[data-field="lastMessage"]', { hasText: 'Seen in production' }).waitFor({ timeout: 15_000 });
      const second = await run(CREATE, { input: { title: 'After the page' } });
      await page.locator(`tr[data-session-id="${second.data.createSession.id}"]`).waitFor({ timeout: 15_000 });

      // Every document went by id: no POST body and no subscribe frame carries text.
      expect(bodies.length).toBeGreaterThanOrEqual(2);
      for (const body of bodies) expect(JSON.parse(body)).toEqual({ documentId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), variables: expect.anything() });
      const subscribes = frames.map((frame) => JSON.parse(frame)).filter((message) => message.type === 'subscribe');
      expect(subscribes.length).toBeGreaterThanOrEqual(2);
      for (const message of subscribes) expect(message.payload).toEqual({ query: '', documentId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
      expect(elsewhere).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});
