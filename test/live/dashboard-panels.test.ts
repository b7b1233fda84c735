import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Browser } from 'playwright-core';
import { useTestServer } from '../harness';
import { ARTIFACTS, describeWithChromium, launchChromium } from '../support/chromium';

/**
 * Issue 27, item 3 in headless Chromium: the live dashboard's panels (examples/live-dashboard/
 * panels.ts) draw messages per minute and sync state per node as accessible SVG, move when a
 * message is posted or a node reports, and search with highlights that carry no markup from the
 * content; a result opens its session's messages. Nothing is loaded from outside the server.
 */

const describeWithBrowser = describeWithChromium('dashboard panel tests');

const { t, f } = useTestServer();

describeWithBrowser('live dashboard panels (headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 90_000);
  afterAll(() => browser?.close());

  it('draws the charts, moves them on a posted message and a node report, and searches', async () => {
    // A member: the charts count only their sessions, whatever other test files write.
    const owner = await f.user();
    const session = await f.session(owner, { title: 'Panel session' });
    await f.message(session, { content: 'The zebra <img src=x onerror="window.__pwned=1"> crossed <b>the</b> river' });
    const page = await browser.newPage();
    const external: string[] = [];
    const origin = new URL(t.url).origin;
    page.on('request', (request) => {
      if (!request.url().startsWith(origin)) external.push(request.url());
    });
    try {
      await page.goto(`${t.url.replace(/\/graphql$/, '/live-dashboard/')}?token=${t.tokenFor(owner)}`);
      const activity = page.locator('#activity-chart svg[role="img"]');
      await activity.locator('[data-value]').first().waitFor({ state: 'attached', timeout: 15_000 });
      expect(await activity.locator('title').first().textContent()).toBe('Messages per minute, last hour (UTC)');
      expect(await activity.locator('rect[data-value]').count()).toBe(60);
      expect(await activity.getAttribute('data-total')).toBe('1');
      expect(await page.locator('#activity-chart details table tbody tr').count()).toBe(60);

      const posted = await t.gql(
        'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }',
        { input: { sessionId: session.id, role: 'ASSISTANT', content: 'A second zebra' } },
        { as: owner },
      );
      expect(posted.errors).toBeUndefined();
      await page.locator('#activity-chart svg[data-total="2"]').waitFor({ state: 'attached', timeout: 10_000 });

      const report = (status: string) =>
        t.gql('mutation ($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { id } }', { input: { sessionId: session.id, nodeId: 'panel-node', status } }, { as: owner });
      expect((await report('SYNCING')).errors).toBeUndefined();
      const node = page.locator('#sync-chart g[data-node="panel-node"]');
      await node.locator('rect[data-status="SYNCING"][data-value="1"]').waitFor({ state: 'attached', timeout: 10_000 });
      expect((await report('SYNCED')).errors).toBeUndefined();
      await node.locator('rect[data-status="SYNCED"][data-value="1"]').waitFor({ state: 'attached', timeout: 10_000 });
      expect(await node.locator('rect[data-status="SYNCING"]').count()).toBe(0);
      expect(await page.locator('#sync-chart svg desc').textContent()).toContain('panel-node: 0 pending, 0 syncing, 1 synced, 0 failed');

      await page.fill('#search-input', 'zebra');
      await page.click('#search button[type="submit"]');
      const results = page.locator('#search-results button');
      await results.first().waitFor({ timeout: 10_000 });
      expect(await results.count()).toBe(2);
      expect(await page.locator('#search-summary').textContent()).toBe('2 matching messages');
      const marks = await page.locator('#search-results mark').allTextContents();
      expect(marks.length).toBeGreaterThanOrEqual(2);
      for (const mark of marks) expect(mark.toLowerCase()).toBe('zebra');
      // The content's markup is shown as text, never run.
      expect(await page.locator('#search-results img, #search-results b').count()).toBe(0);
      expect(await page.locator('#search-results').innerText()).toContain('<img src=x');
      expect(await page.evaluate('window.__pwned')).toBeUndefined();

      await results.first().click();
      const messages = page.locator(`#session-messages[data-session-id="${session.id}"]`);
      await messages.waitFor({ timeout: 10_000 });
      expect(await messages.locator('li').count()).toBe(2);
      expect(await messages.innerText()).toContain('assistant: A second zebra');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'live-dashboard-panels.png'), fullPage: true });
      expect(external).toEqual([]);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('the playground opens on a dashboard document with activity and search, which runs', async () => {
    const owner = await f.user();
    await f.message(await f.session(owner), { content: 'A first draft of the deadline plan' });
    const page = await browser.newPage();
    try {
      await page.goto(`${t.url}?token=${t.tokenFor(owner)}`);
      await page.locator('.graphiql-execute-button').click();
      const result = page.locator('.result-window');
      let text = '';
      // The result editor renders only the lines in view: the answer's start, then activity's buckets.
      for (const deadline = Date.now() + 15_000; !text.includes('"activity"') && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        text = await result.innerText();
      }
      expect(text).toContain('"activity"');
      expect(text).toContain('"messagesPosted"');
      expect(text).not.toContain('"errors"');
      // The document the editor holds is the dashboard's.
      const editor = await page.locator('.graphiql-query-editor').innerText();
      for (const field of ['activity(', 'nodeSyncSummary', 'searchMessages(']) expect(editor).toContain(field);
    } finally {
      await page.close();
    }
  }, 90_000);
});
