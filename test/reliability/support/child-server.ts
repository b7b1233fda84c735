import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
const HUB_BIN = path.join(REPO_ROOT, 'bin', 'hub.js');

export interface ChildServer {
  pid: number;
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  graphqlUrl: string;
  /** Everything the child wrote, for failure messages and token parsing. */
  output(): string;
  /** Resident set size of the child, from /proc/<pid>/status (VmRSS), in kB. */
  rssKb(): number;
  /** Resolves once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
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
 * Starts the built server (`node bin/hub.js serve`) as a child process on an ephemeral loopback
 * port and waits for it to print its URL. `env` is added to a clean environment (no
 * DATABASE_URL unless given).
 */
export async function startChildServer(options: {
  env: Record<string, string>;
  args?: string[];
  nodeArgs?: string[];
  startTimeoutMs?: number;
}): Promise<ChildServer> {
  if (!builtServerExists()) throw new Error('dist/ is missing: run `npm run build` first (npm run test:reliability does)');
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER']) if (process.env[key]) base[key] = process.env[key]!;
  const env = { ...base, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', HUB_LOG_LEVEL: 'warn', ...options.env };
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), HUB_BIN, 'serve', ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    chunks.push(text);
    size += text.length;
    // Keep the first 64 kB (start-up, token) and a rolling tail.
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
  const output = () => chunks.join('');

  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output().slice(-3000)}`));
    }, timeoutMs);
    const check = () => {
      const match = /is serving (http:\/\/[^\s/]+)\/graphql/.exec(output());
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`the server exited during start (${JSON.stringify(info)}):\n${output().slice(-3000)}`));
    });
  });

  return {
    pid: child.pid!,
    baseUrl,
    graphqlUrl: `${baseUrl}/graphql`,
    output,
    rssKb: () => readRssKb(child.pid!),
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
  };
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
