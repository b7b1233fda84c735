import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startTestServer, useTestServer } from '../harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

// .ci/run installs Debian's chromium; a machine without it skips this one test, saying so.
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`playground browser test skipped: no Chromium at ${CHROMIUM}`);

describeWithBrowser('playground (headless Chromium)', () => {
  const { t, f } = useTestServer();

  it('runs { me { email } } offline with the token from the printed link and shows the answer', async () => {
    const user = await f.user();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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
