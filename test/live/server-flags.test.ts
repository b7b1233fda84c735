import fs from 'node:fs';
import path from 'node:path';
import { missingV8Flags, SERVER_V8_FLAGS } from '../../src/cli/v8-flags';
import { TEST_SECRET, testDatabaseUrl } from '../harness';
import { ChildServer, sleep, startChildServer } from '../support/child-server';

/**
 * Issue 30, item 2: the V8 settings a server needs (src/cli/v8-flags.ts) are applied by `hub
 * serve` itself, however it is started: a process started without them serves from a relaunched
 * child that has them, cluster workers get them, and a process started with them serves itself.
 * Read from the operating system: each serving process's own command line.
 */

function childrenOf(pid: number): number[] {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number);
}

const commandLine = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`);

async function serve(nodeArgs: string[], args: string[] = []): Promise<ChildServer> {
  return startChildServer({
    from: 'sources',
    nodeArgs,
    args: ['--no-migrate', ...args],
    env: { DATABASE_URL: testDatabaseUrl(), HUB_JWT_SECRET: TEST_SECRET },
  });
}

async function answers(server: ChildServer): Promise<boolean> {
  return (await fetch(`${server.baseUrl}/healthz`)).ok;
}

describe('hub serve applies the server V8 flags itself', () => {
  it('knows which flags are missing, from the command line or NODE_OPTIONS', () => {
    expect(missingV8Flags([])).toEqual(SERVER_V8_FLAGS);
    expect(missingV8Flags(['--max-semi-space-size=32'])).toEqual(['--no-allocation-site-pretenuring']);
    // The operator's choice about a flag is kept, in either spelling, with or without `no-`.
    expect(missingV8Flags(['--max-semi-space-size=32', '--allocation-site-pretenuring'])).toEqual([]);
    expect(missingV8Flags([], '--max_semi_space_size=16 --enable-source-maps --no-allocation_site_pretenuring')).toEqual([]);
    expect(missingV8Flags(['--enable-source-maps'], '')).toEqual(SERVER_V8_FLAGS);
  });

  it('are the ones bin/hub.js and `npm start` start with, so neither relaunches', () => {
    const root = path.resolve(__dirname, '../..');
    const shebang = fs.readFileSync(path.join(root, 'bin', 'hub.js'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_V8_FLAGS.join(' ')}`);
    const { scripts } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(scripts.start).toBe(`node ${SERVER_V8_FLAGS.join(' ')} bin/hub.js serve`);
  });

  it('started without them, serves from a relaunched child that has them; SIGTERM stops both', async () => {
    const server = await serve([]);
    try {
      expect(commandLine(server.pid)).not.toEqual(expect.arrayContaining(SERVER_V8_FLAGS));
      const [child, ...others] = childrenOf(server.pid);
      expect(others).toEqual([]);
      expect(commandLine(child)).toEqual(expect.arrayContaining(SERVER_V8_FLAGS));
      expect(await answers(server)).toBe(true);
      const exit = await server.stop();
      expect(exit).toEqual({ code: 0, signal: null });
      for (let i = 0; i < 50 && alive(child); i += 1) await sleep(100);
      expect(alive(child)).toBe(false);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('a relaunched server stops when its launcher is killed outright', async () => {
    const server = await serve([]);
    const [child] = childrenOf(server.pid);
    try {
      server.signal('SIGKILL');
      await server.exited;
      for (let i = 0; i < 100 && alive(child); i += 1) await sleep(100);
      expect(alive(child)).toBe(false);
    } finally {
      if (alive(child)) process.kill(child, 'SIGKILL');
    }
  }, 120_000);

  it('started with them, serves itself', async () => {
    const server = await serve(SERVER_V8_FLAGS);
    try {
      expect(commandLine(server.pid)).toEqual(expect.arrayContaining(SERVER_V8_FLAGS));
      expect(childrenOf(server.pid)).toEqual([]);
      expect(await answers(server)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('gives them to every cluster worker of a primary started without them', async () => {
    const server = await serve([], ['--workers', '2']);
    try {
      const workers = childrenOf(server.pid);
      expect(workers).toHaveLength(2);
      for (const worker of workers) expect(commandLine(worker)).toEqual(expect.arrayContaining(SERVER_V8_FLAGS));
      expect(await answers(server)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
