import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, useTestServer } from '../harness';
import { ARTIFACTS, describeWithChromium, launchChromium } from '../support/chromium';

const describeWithBrowser = describeWithChromium('playground browser tests');

describeWithBrowser('playground (headless Chromium)', () => {
  const { t, f } = useTestServer();

  it('runs { me { email } } offline with the token from the printed link and shows the answer', async () => {
    const user = await f.user();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(t.url.replace(/\/graphql$/, ''))) external.push(request.url());
      });
      const query = encodeURIComponent('{ me { email } }');
      await page.goto(`${t.url}?token=${t.tokenFor(user)}&query=${query}`);
      await page.locator('.graphiql-execute-button').click();
      const result = page.locator('.result-window');
      await result.getByText(user.email).waitFor({ timeout: 15000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'playground.png'), fullPage: true });
      expect(await result.innerText()).toContain(`"email": "${user.email}"`);
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('runs a subscription typed just before Run over the WebSocket, never as an HTTP POST', async () => {
    const user = await f.user();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const posted: string[] = [];
      const sockets: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST') posted.push(request.postData() ?? '');
      });
      page.on('websocket', (socket) => sockets.push(socket.url()));
      await page.goto(`${t.url}?token=${t.tokenFor(user)}&query=${encodeURIComponent('{ me { id } }')}`);
      const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
      await editor.waitFor({ timeout: 15000 });
      // A named subscription after a query, typed and run at once (GraphiQL's own parse lags).
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Backspace');
      await page.keyboard.insertText('subscription Changes { sessionChanged { kind sessionId } }');
      const registered = t.server.live.hub.subscriberCount;
      await page.locator('.graphiql-execute-button').click();
      // Write once the subscription is registered (an open socket is not yet a subscriber).
      const deadline = Date.now() + 15000;
      while (t.server.live.hub.subscriberCount <= registered && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const session = await t.gql('mutation { createSession(input: { title: "seen live" }) { id } }', {}, { as: user });
      const result = page.locator('.result-window');
      await result.getByText(session.data.createSession.id).waitFor({ timeout: 15000 });
      expect(sockets.length).toBeGreaterThan(0);
      expect(posted.filter((body) => body.includes('sessionChanged'))).toEqual([]);
      expect(await result.innerText()).not.toContain('SUBSCRIPTION_OVER_HTTP');
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('is not served with HUB_TRUSTED_DOCUMENTS=require (it could run nothing)', async () => {
    const manifest = path.join(mkdtempSync(path.join(tmpdir(), 'hub-manifest-')), 'manifest.json');
    writeFileSync(manifest, '{}');
    const strict = await startTestServer({ HUB_TRUSTED_DOCUMENTS: 'require', HUB_TRUSTED_DOCUMENTS_FILE: manifest });
    try {
      const response = await fetch(strict.url, { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toContain('graphiql');
      expect((await fetch(strict.url.replace(/graphql$/, 'playground/graphiql.js'))).status).toBe(404);
    } finally {
      await strict.close();
    }
  });

  it('is not served in production', async () => {
    const prod = await startTestServer({ NODE_ENV: 'production' });
    try {
      const response = await fetch(prod.url, { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toContain('graphiql');
      expect((await fetch(prod.url.replace(/graphql$/, 'playground/graphiql.js'))).status).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
