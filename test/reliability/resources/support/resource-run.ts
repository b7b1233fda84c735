/**
 * The resource-fuzz harness (issue #21): one hostile requester against a production-mode server in
 * a child process (the reliability suite's starter, support/child-server.ts), while a bystander
 * asks `{ me { id } }` over and over. It samples the server's RSS and CPU from /proc/<pid>, records
 * the bystander's latencies, and writes per-class figures (requests, peak RSS, bystander p99) to
 * test-artifacts/reliability-resources.json for docs/RELIABILITY.md. A class fails when the one
 * requester pushes the server's RSS beyond the class's stated bound or the bystander's p99 beyond
 * 1 s, or the server dies. Every attack is bounded in count and time and targets 127.0.0.1 only.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../../../ormconfig';
import { signToken } from '../../../../src/auth/tokens';
import { User } from '../../../../src/users/user.entity';
import { freshDatabase } from '../../../databases';
import { factories, Factories } from '../../../factories';
import { testDatabaseUrl } from '../../../harness';
import { ChildServer, readRssKb, sleep, startChildServer, tempDir } from '../../../support/child-server';
import { percentile, round, writeFigures } from '../../support/figures';
import { RELIABILITY_SECRET } from '../../support/fixtures';
import { gql } from '../../support/http';

/**
 * The bystander's bound: one hostile requester must not make others wait longer than this, at
 * the 99th percentile, whatever the bystander's own baseline. The machine's load average is
 * recorded beside every figure (before and after the class): a class that fails only while the
 * machine is loaded far past its cores says so in its figures, it does not loosen the bound.
 */
export const BYSTANDER_P99_MS = 1_000;
/** How long the bystander runs alone first, for its baseline. */
const BASELINE_MS = 3_000;
/** Between two bystander requests. */
const BYSTANDER_PAUSE_MS = 25;
/** The bystander's request timeout; a timed-out request counts as this long. */
const BYSTANDER_TIMEOUT_MS = 5_000;
export const METRICS_TOKEN = 'resource-fuzz-metrics-token-0123456789abcdef';

const CLOCK_TICKS = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** The process and its descendants (a cluster's workers), from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i += 1) {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${pids[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const children = fs.readFileSync(`/proc/${pids[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) pids.push(...children.split(/\s+/).map(Number));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return pids;
}

/** User and system CPU seconds the process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state (field 3); utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** RSS (kB) and CPU seconds of the server: the process and its workers, summed. */
export function serverUsage(pid: number): { rssKb: number; cpuSeconds: number } {
  let rssKb = 0;
  let cpu = 0;
  for (const p of processTree(pid)) {
    try {
      rssKb += readRssKb(p);
      cpu += cpuSeconds(p);
    } catch {
      // the process ended meanwhile
    }
  }
  return { rssKb, cpuSeconds: cpu };
}

export interface ResourceServer {
  child: ChildServer;
  dataSource: DataSource;
  f: Factories;
  tokenFor(user: User): string;
  close(): Promise<void>;
}

/**
 * The built server in production mode on a fresh database, as a child process. `env` adds or
 * overrides variables (limits under test). The returned DataSource seeds rows directly.
 */
export async function startResourceServer(env: Record<string, string> = {}): Promise<ResourceServer> {
  const db = await freshDatabase(testDatabaseUrl());
  const dir = tempDir('hub-resources-');
  const dataSource = createDataSource({ url: db.url, poolSize: 2 });
  await dataSource.initialize();
  let child: ChildServer;
  try {
    // HUB_RESOURCE_PROFILE_DIR: the server writes a CPU profile there when it stops (--cpu-prof).
    const profileDir = process.env.HUB_RESOURCE_PROFILE_DIR;
    child = await startChildServer({
      nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        HUB_JWT_SECRET: RELIABILITY_SECRET,
        HUB_DATA_DIR: dir,
        HUB_METRICS_TOKEN: METRICS_TOKEN,
        ...env,
      },
    });
  } catch (error) {
    await dataSource.destroy();
    await db.drop();
    throw error;
  }
  return {
    child,
    dataSource,
    f: factories(dataSource),
    tokenFor: (user) => signToken(RELIABILITY_SECRET, user.id, 3600),
    async close() {
      await child.stop();
      await dataSource.destroy();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AttackResult {
  /** Requests (or connections, subscriptions) the hostile requester made. */
  requests: number;
  /** What it got back, tallied (e.g. HTTP status and error code). */
  outcomes: Record<string, number>;
}

export interface ClassFigures {
  requests: number;
  outcomes: Record<string, number>;
  durationS: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
  rssBoundMb: number;
  cpuSeconds: number;
  cpuBoundSeconds?: number;
  bystander: { requests: number; failures: number; p50Ms: number; p99Ms: number; maxMs: number; slowestMs: number[]; baselineP99Ms: number; boundMs: number };
  serverAlive: boolean;
  /** The machine's 1-minute load average before the attack and after it (2 cores here). */
  loadAverage: { before: number; after: number };
}

/**
 * Runs one class: samples RSS every 100 ms, starts the bystander, runs `attack` (which must stop
 * by itself, within about a minute), lets the server settle for `settleMs`, and returns the
 * figures, also written under `resources.<name>`. The caller asserts them with `expectWithinBounds`.
 */
export async function runResourceClass(options: {
  name: string;
  server: ResourceServer;
  bystander: User;
  /** The most the server's RSS may grow above its level before the attack. */
  rssBoundMb: number;
  /** Optionally, the most CPU the server may spend on the attack (seconds, the workers summed). */
  cpuBoundSeconds?: number;
  attack: () => Promise<AttackResult>;
  settleMs?: number;
}): Promise<ClassFigures> {
  const { child } = options.server;
  const token = options.server.tokenFor(options.bystander);
  // Warm the bystander's path first (its document parsed and compiled, its connection open).
  for (let i = 0; i < 5; i += 1) await gql(child.graphqlUrl, token, '{ me { id } }');
  await sleep(300);
  const baseline: number[] = [];
  for (const end = Date.now() + BASELINE_MS; Date.now() < end; ) {
    const started = Date.now();
    await gql(child.graphqlUrl, token, '{ me { id } }', undefined, BYSTANDER_TIMEOUT_MS);
    baseline.push(Date.now() - started);
    await sleep(BYSTANDER_PAUSE_MS);
  }
  const baselineP99 = percentile([...baseline].sort((a, b) => a - b), 99);
  const loadBefore = round(os.loadavg()[0]);
  const start = serverUsage(child.pid);
  const rssStart = start.rssKb;
  let rssPeak = rssStart;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, serverUsage(child.pid).rssKb);
  }, 100);
  let stop = false;
  const latencies: number[] = [];
  let failures = 0;
  const bystander = (async () => {
    while (!stop) {
      const started = Date.now();
      const r = await gql(child.graphqlUrl, token, '{ me { id } }', undefined, BYSTANDER_TIMEOUT_MS);
      const ok = r.status === 200 && r.body?.data?.me?.id === options.bystander.id;
      if (!ok) failures += 1;
      latencies.push(ok ? Date.now() - started : Math.max(Date.now() - started, BYSTANDER_TIMEOUT_MS));
      await sleep(BYSTANDER_PAUSE_MS);
    }
  })();
  const began = Date.now();
  let result: AttackResult;
  try {
    result = await options.attack();
    await sleep(options.settleMs ?? 1_000);
  } finally {
    stop = true;
    await bystander;
    clearInterval(sampler);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const alive = child.alive();
  const figures: ClassFigures = {
    requests: result.requests,
    outcomes: result.outcomes,
    durationS: round((Date.now() - began) / 1000),
    rssStartMb: round(rssStart / 1024),
    rssPeakMb: round(rssPeak / 1024),
    rssGrowthMb: round((rssPeak - rssStart) / 1024),
    rssBoundMb: options.rssBoundMb,
    cpuBoundSeconds: options.cpuBoundSeconds,
    cpuSeconds: alive ? round(serverUsage(child.pid).cpuSeconds - start.cpuSeconds, 2) : -1,
    bystander: {
      requests: latencies.length,
      failures,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? 0,
      slowestMs: sorted.slice(-5),
      baselineP99Ms: baselineP99,
      boundMs: BYSTANDER_P99_MS,
    },
    serverAlive: alive,
    loadAverage: { before: loadBefore, after: round(os.loadavg()[0]) },
  };
  writeFigures('resources', { [options.name]: figures });
  return figures;
}

/** The class's verdict: alive, RSS (and CPU) within bounds, bystander p99 within 1 s and never refused. */
export function expectWithinBounds(figures: ClassFigures): void {
  expect({
    figures,
    serverAlive: figures.serverAlive,
    rssWithinBound: figures.rssGrowthMb <= figures.rssBoundMb,
    cpuWithinBound: figures.cpuBoundSeconds === undefined || (figures.cpuSeconds >= 0 && figures.cpuSeconds <= figures.cpuBoundSeconds),
    bystanderP99WithinBound: figures.bystander.p99Ms <= figures.bystander.boundMs,
    bystanderFailures: figures.bystander.failures,
  }).toEqual({ figures, serverAlive: true, rssWithinBound: true, cpuWithinBound: true, bystanderP99WithinBound: true, bystanderFailures: 0 });
}

/** Counts of each outcome label. */
export function outcomeOf(r: { status: number; codes: string[]; network?: string; body?: any }): string {
  if (r.network) return `network:${r.network}`;
  const reason = r.body?.errors?.[0]?.extensions?.reason;
  return `${r.status}${r.codes.length ? ` ${r.codes[0]}` : ''}${reason ? ` ${reason}` : ''}`;
}

/** Runs `count` tasks with at most `concurrency` at once; stops early past `deadlineMs`. */
export async function bounded<T>(count: number, concurrency: number, deadlineMs: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  const end = Date.now() + deadlineMs;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && Date.now() < end) {
        const i = next++;
        results.push(await task(i));
      }
    }),
  );
  return results;
}
