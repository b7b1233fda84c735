import { existsSync } from 'node:fs';
import path from 'node:path';
import { Browser, chromium } from 'playwright-core';

/**
 * The one way the browser tests start Chromium: Debian's build (.ci/run installs it, or
 * CHROMIUM_PATH) driven by playwright-core, headless, with nothing that reaches the network on
 * its own. A machine without it skips the browser tests, saying so once per file.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots the browser tests leave for a reviewer. */
export const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `describe` when Chromium is installed, else `describe.skip` and a warning naming `what`. */
export function describeWithChromium(what: string): jest.Describe {
  if (existsSync(CHROMIUM)) return describe;
  console.warn(`${what} skipped: no Chromium at ${CHROMIUM}`);
  return describe.skip;
}

/** A headless Chromium; the caller closes it. Launching takes a while on a busy machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
