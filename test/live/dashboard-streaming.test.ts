import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Browser } from 'playwright-core';
import { useTestServer } from '../harness';
import { ARTIFACTS, describeWithChromium, launchChromium } from '../support/chromium';

/**
 * Issue 28, item 5 in headless Chromium: the live dashboard's session view (examples/live-dashboard/
 * panels.ts) shows a reply an AI streams growing in place: it appears when posted STREAMING, takes
 * each append, and shows its end.
 */

const describeWithBrowser = describeWithChromium('dashboard streaming test');

const { t, f } = useTestServer();

const POST = 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }';
const APPEND = 'mutation ($id: ID!, $delta: String!, $offset: Int!) { appendMessageContent(id: $id, delta: $delta, offset: $offset) { id } }';
const FINISH = 'mutation ($id: ID!) { finishMessage(id: $id, status: COMPLETE, usage: { inputTokens: 5, outputTokens: 4 }) { id } }';

describeWithBrowser('live dashboard, a streamed reply (headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 90_000);
  afterAll(() => browser?.close());

  it('grows a streaming reply in the open session, append by append, and shows when it ends', async () => {
    const owner = await f.user();
    const session = await f.session(owner, { title: 'Streaming session' });
    await f.message(session, { content: 'Tell me a story about a quokka' });
    const page = await browser.newPage();
    const as = { as: owner };
    try {
      await page.goto(`${t.url.replace(/\/graphql$/, '/live-dashboard/')}?token=${t.tokenFor(owner)}`);
      await page.fill('#search-input', 'quokka');
      await page.click('#search button[type="submit"]');
      const result = page.locator('#search-results button').first();
      await result.waitFor({ timeout: 15_000 });
      // The page's own subscriptions (sessions, charts) are up; the view adds one.
      const before = t.server.live.hub.subscriberCount;
      await result.click();
      const panel = page.locator(`#session-messages[data-session-id="${session.id}"]`);
      await panel.waitFor({ timeout: 10_000 });
      // The view subscribes before it loads: give the subscription a moment to be registered.
      const registered = Date.now() + 10_000;
      while (t.server.live.hub.subscriberCount <= before && Date.now() < registered) await new Promise((r) => setTimeout(r, 20));

      const posted = await t.gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content: '', status: 'STREAMING' } }, as);
      expect(posted.errors).toBeUndefined();
      const id = posted.data.postMessage.id as string;
      const reply = panel.locator(`li[data-message-id="${id}"]`);
      await reply.waitFor({ timeout: 10_000 });
      expect(await reply.getAttribute('data-status')).toBe('STREAMING');
      let text = '';
      for (const delta of ['Once', ' upon', ' a time, a quokka 😀', ' smiled.']) {
        expect((await t.gql(APPEND, { id, delta, offset: [...text].length }, as)).errors).toBeUndefined();
        text += delta;
        await panel.locator(`li[data-message-id="${id}"]`, { hasText: `assistant: ${text}` }).waitFor({ timeout: 10_000 });
      }
      expect((await t.gql(FINISH, { id }, as)).errors).toBeUndefined();
      await panel.locator(`li[data-message-id="${id}"][data-status="COMPLETE"]`).waitFor({ timeout: 10_000 });
      expect(await reply.textContent()).toBe(`assistant: ${text}`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'live-dashboard-streaming.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 90_000);
});
