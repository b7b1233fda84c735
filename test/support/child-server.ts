import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SERVER_V8_FLAGS } from '../../src/cli/v8-flags';

/**
 * The one way the tests run `hub` in a child process (test/starters.test.ts refuses another):
 * `startChildServer` for `hub serve` until it prints its URL, `spawnHub` for a process watched by
 * its output, `runHub` for a command run to its exit. `from: 'dist'` runs the built server
 * (`bin/hub.js`, the reliability and scale suites build first); `from: 'sources'` runs the
 * TypeScript sources through ts-register.js, so `npm test` needs no build.
 */

export const REPO_ROOT = path.resolve(__dirname, '../..');
const HUB_BIN = path.join(REPO_ROOT, 'bin', 'hub.js');
const FROM_SOURCES = ['--require', path.join(__dirname, 'ts-register.js'), path.join(__dirname, 'hub-from-sources.ts')];

export interface HubProcessOptions {
  /** Added to a clean environment (PATH, HOME, LANG, TMPDIR, USER; no DATABASE_URL unless given). */
  env?: Record<string, string>;
  /** Node's own arguments; by default the server's V8 flags, so the process started is the one
   * that serves (without them `hub serve` relaunches itself: test/live/server-flags.test.ts). */
  nodeArgs?: string[];
  /** The built server (default) or the sources. */
  from?: 'dist' | 'sources';
}

export interface HubProcess {
  pid: number;
  /** Everything the process wrote (the first part and a rolling tail), stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Calls `listener` with each chunk of stdout. */
  onStdout(listener: (chunk: Buffer) => void): () => void;
}

/** Runs `hub <args>` in a child process; its output is kept, and it is stopped by pid. */
export function spawnHub(args: string[], options: HubProcessOptions = {}): HubProcess {
  const from = options.from ?? 'dist';
  if (from === 'dist' && !builtServerExists()) throw new Error('dist/ is missing: run `npm run build` first (npm run test:reliability does)');
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER']) if (process.env[key]) base[key] = process.env[key]!;
  const entry = from === 'dist' ? [HUB_BIN] : FROM_SOURCES;
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? SERVER_V8_FLAGS), ...entry, ...args], {
    cwd: REPO_ROOT,
    env: { ...base, HUB_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    chunks.push(text);
    size += text.length;
    // Keep the first chunk (start-up, token) and a rolling tail.
    while (size > 512_000 && chunks.length > 2) {
      size -= chunks[1].length;
      chunks.splice(1, 1);
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  return {
    pid: child.pid!,
    output: () => chunks.join(''),
    exited,
    alive: () => exitInfo === undefined,
    signal: (signal) => {
      if (exitInfo === undefined) child.kill(signal);
    },
    async stop(graceMs = 20_000) {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
    onStdout(listener) {
      child.stdout!.on('data', listener);
      return () => child.stdout!.off('data', listener);
    },
  };
}

/** Runs `hub <args>` to its exit (a CLI command): its exit code and everything it wrote. Killed
 * (SIGKILL) after `timeoutMs` if given. */
export async function runHub(args: string[], options: HubProcessOptions & { timeoutMs?: number } = {}): Promise<{ code: number | null; output: string }> {
  const hub = spawnHub(args, options);
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => hub.signal('SIGKILL'), options.timeoutMs);
  const { code } = await hub.exited;
  clearTimeout(timer);
  return { code, output: hub.output() };
}

export interface ChildServer extends HubProcess {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  graphqlUrl: string;
  /** Resident set size of the child, from /proc/<pid>/status (VmRSS), in kB. */
  rssKb(): number;
}

export function builtServerExists(): boolean {
  return fs.existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'));
}

export function readRssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** A fresh temporary directory the `postgres` user can reach (the cluster runs as it under root). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * Starts `hub serve` as a child process on an ephemeral loopback port (development mode) and
 * waits for it to print its URL.
 */
export async function startChildServer(options: HubProcessOptions & { args?: string[]; startTimeoutMs?: number }): Promise<ChildServer> {
  const env = { NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', ...options.env };
  const hub = spawnHub(['serve', ...(options.args ?? [])], { ...options, env });
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      hub.signal('SIGKILL');
      reject(new Error(`the server did not start within ${timeoutMs} ms:\n${hub.output().slice(-3000)}`));
    }, timeoutMs);
    const check = () => {
      const match = /is serving (http:\/\/[^\s/]+)\/graphql/.exec(hub.output());
      if (match) {
        clearTimeout(timer);
        off();
        resolve(match[1]);
      }
    };
    const off = hub.onStdout(check);
    void hub.exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`the server exited during start (${JSON.stringify(info)}):\n${hub.output().slice(-3000)}`));
    });
  });
  return { ...hub, baseUrl, graphqlUrl: `${baseUrl}/graphql`, rssKb: () => readRssKb(hub.pid) };
}

/** The pid in `<pgData>/postmaster.pid` if that process is alive, else undefined. */
export function livePostmaster(pgData: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(pgData, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
