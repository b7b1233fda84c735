/**
 * `npm run bench:trust [-- --compare <dir>]`: what the trust work of issue #12 changed, measured
 * on the built server in production mode. For this checkout, and with `--compare` for another
 * built checkout (say the commit before it: `git worktree add /tmp/pre12 <commit>`, then
 * `npm ci && npm run build` there), each on a scratch database of its own (created on
 * DATABASE_URL's server and dropped after, or in an embedded PostgreSQL in a temporary
 * directory), migrated and seeded by that checkout's own `hub`:
 *
 * (a) a new 14 kB document (a hundred fragments), the first time (five distinct texts) and repeated;
 * (b) a token bomb (a list of 40,000 values, ~80,000 tokens);
 * (c) chains of 330 and of 2,000 fragments, each spreading the next two;
 * (d) ten requests with 200 kB operation names: /metrics size and the server's RSS after.
 *
 * Server time is the CPU time of the server's main thread (Linux /proc/<pid>/schedstat, in ns)
 * across the request, the time during which that process serves nothing else; the wall time seen
 * by the client is shown too. Prints a markdown table. Every process it starts, it stops.
 */
import 'reflect-metadata';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { signToken } from '../src/auth/tokens';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../src/db/embedded';
import { freePort } from '../src/common/ports';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const METRICS_TOKEN = 'bench-metrics-token-bench-metrics-token';
const REPEATS = Number(process.env.BENCH_REPEATS ?? 20);
/** A request that takes longer is given up (and its server replaced): the answer is "timeout". */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 120_000);
const SEED = ['--users', '20', '--sessions', '200', '--messages', '2000', '--skills', '5', '--seed', 'trust'];

interface Checkout {
  label: string;
  dir: string;
}

interface Sample {
  cpuMs: number;
  wallMs: number;
  /** The HTTP status and the first error's code and reason, or `timeout`. */
  answer: string;
}

interface Row {
  measure: string;
  /** One value per checkout, formatted. */
  cells: string[];
}

// ---- the server process ------------------------------------------------------------------------

/** CPU time of a process's main thread so far, in ns (the first field of schedstat). */
function mainThreadCpuNs(pid: number): bigint {
  return BigInt(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Server {
  child: ChildProcess;
  base: string;
  pid: number;
}

function environment(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, DATABASE_URL: url, HUB_JWT_SECRET: SECRET, HUB_DATA_DIR: path.join(os.tmpdir(), 'hub-bench-trust-data'), HUB_LOG_LEVEL: 'warn', ...extra };
}

async function startServer(checkout: Checkout, url: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVER_V8_FLAGS, path.join(checkout.dir, 'bin', 'hub.js'), 'serve', '--no-migrate'], {
    cwd: checkout.dir,
    env: environment(url, { NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', HUB_METRICS_TOKEN: METRICS_TOKEN }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`${checkout.label}: the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { child, base, pid: child.pid! };
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${checkout.label}: the server did not become ready`);
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** One request: the server's main-thread CPU and the client's wall time across it, and the answer. */
async function timed(server: Server, token: string, body: unknown): Promise<Sample> {
  const cpuBefore = mainThreadCpuNs(server.pid);
  const started = process.hrtime.bigint();
  let answer: string;
  try {
    const response = await fetch(`${server.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    let error: { extensions?: { code?: string; reason?: string } } | undefined;
    try {
      error = JSON.parse(text).errors?.[0];
    } catch {
      error = undefined;
    }
    answer = [response.status, error?.extensions?.code, error?.extensions?.reason].filter(Boolean).join(' ');
  } catch (caught) {
    answer = (caught as Error).name === 'TimeoutError' ? `timeout (> ${TIMEOUT_MS / 1000} s)` : `no answer (${(caught as Error).message})`;
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { cpuMs: Number(mainThreadCpuNs(server.pid) - cpuBefore) / 1e6, wallMs, answer };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/** The median of several samples, as one cell: server CPU, wall time, and the answers seen. */
function cell(samples: Sample[]): string {
  const answers = [...new Set(samples.map((s) => s.answer))].join(', ');
  return `${ms(median(samples.map((s) => s.cpuMs)))} ms CPU · ${ms(median(samples.map((s) => s.wallMs)))} ms wall · ${answers}`;
}

// ---- the documents -----------------------------------------------------------------------------

/** ~14 kB: a hundred fragments on Session spread in one page of sessions; `tag` makes the text new. */
function fourteenKb(tag: string): string {
  const fragments = Array.from({ length: 100 }, (_, i) => `fragment F${i} on Session { id title createdAt updatedAt isSyncing version deletedAt owner { id email displayName role createdAt } __typename }`);
  return [`query Big${tag} { sessions(first: 3) { totalCount nodes { ${fragments.map((_, i) => `...F${i}`).join(' ')} } } }`, ...fragments].join('\n');
}

/** ~80,000 tokens in ~200 kB: a list of 40,000 ids. */
function tokenBomb(tag: string): string {
  return `query Bomb${tag} { nodes(ids: [${Array.from({ length: 40_000 }, () => '"0"').join(',')}]) { id } }`;
}

/** `fragment F0 on Session { id ...F1 ...F1 }` …: each of `length` fragments spreads the next twice. */
function fragmentChain(length: number): string {
  const fragments = Array.from({ length }, (_, i) => `fragment F${i} on Session { id ${i + 1 < length ? `...F${i + 1} ...F${i + 1}` : ''} }`);
  return ['{ sessions(first: 1) { nodes { ...F0 } } }', ...fragments].join('\n');
}

// ---- the databases -----------------------------------------------------------------------------

interface Cluster {
  /** A new empty database's URL. */
  create(name: string): Promise<string>;
  close(): Promise<void>;
}

async function openCluster(): Promise<Cluster> {
  let embedded: EmbeddedPostgres | undefined;
  let dir: string | undefined;
  let base: URL;
  if (process.env.DATABASE_URL) base = new URL(process.env.DATABASE_URL);
  else {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-bench-trust-'));
    await fs.chmod(dir, 0o755);
    embedded = await startEmbeddedPostgres(dir);
    base = new URL(embedded.url);
  }
  const urlOf = (name: string) => Object.assign(new URL(base.toString()), { pathname: `/${name}` }).toString();
  const created: string[] = [];
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: urlOf('postgres') });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    async create(name) {
      await admin(`CREATE DATABASE ${name}`);
      created.push(name);
      return urlOf(name);
    },
    async close() {
      for (const name of created) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error) => console.error(`could not drop ${name}: ${error.message}`));
      await embedded?.stop();
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Migrates and seeds with the checkout's own `hub`; returns a user to sign tokens for. */
async function prepareDatabase(checkout: Checkout, url: string): Promise<string> {
  const hub = (args: string[]) => run(process.execPath, [path.join(checkout.dir, 'bin', 'hub.js'), ...args], { cwd: checkout.dir, env: environment(url), maxBuffer: 16 * 1024 * 1024 });
  await hub(['migrate']);
  await hub(['seed', ...SEED]);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT id FROM users ORDER BY (role = 'ADMIN') DESC, email LIMIT 1`);
    return rows[0].id;
  } finally {
    await client.end();
  }
}

// ---- the measures ------------------------------------------------------------------------------

/** Each group on a server process of its own: a fresh cache, a fresh registry, a fresh RSS. */
async function measure(checkout: Checkout, url: string, userId: string): Promise<string[]> {
  const token = signToken(SECRET, userId, 3600);
  const cells: string[] = [];
  const withServer = async (work: (server: Server) => Promise<void>) => {
    const server = await startServer(checkout, url);
    try {
      await work(server);
    } finally {
      await stopServer(server);
    }
  };

  await withServer(async (server) => {
    await timed(server, token, { query: '{ me { id } }' }); // warm: the first request loads code paths
    const firsts: Sample[] = [];
    for (let i = 0; i < 5; i += 1) firsts.push(await timed(server, token, { query: fourteenKb(`N${i}`) }));
    const repeats: Sample[] = [];
    for (let i = 0; i < REPEATS; i += 1) repeats.push(await timed(server, token, { query: fourteenKb('N0') }));
    const bombs: Sample[] = [];
    for (let i = 0; i < 3; i += 1) bombs.push(await timed(server, token, { query: tokenBomb(String(i)) }));
    cells.push(cell(firsts), cell(repeats), cell(bombs));
  });
  // A chain may keep a server busy past the timeout: each gets a server of its own.
  for (const length of [330, 2000]) {
    await withServer(async (server) => {
      await timed(server, token, { query: '{ me { id } }' });
      cells.push(cell([await timed(server, token, { query: fragmentChain(length) })]));
    });
  }
  await withServer(async (server) => {
    await timed(server, token, { query: '{ me { id } }' });
    const rssBefore = rssMb(server.pid);
    const names: Sample[] = [];
    for (let i = 0; i < 10; i += 1) names.push(await timed(server, token, { query: '{ me { id } }', operationName: `${'n'.repeat(200_000)}${i}` }));
    const metrics = await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const size = Buffer.byteLength(await metrics.text());
    cells.push(cell(names), `${(size / 1024).toFixed(0)} kB (HTTP ${metrics.status})`, `${rssBefore.toFixed(0)} → ${rssMb(server.pid).toFixed(0)} MB`);
  });
  return cells;
}

const MEASURES = [
  '(a) new 14 kB document, first time (median of 5 texts)',
  `(a) the same document repeated (median of ${REPEATS})`,
  '(b) token bomb: a list of 40,000 values (median of 3)',
  '(c) chain of 330 fragments, each spreading the next two',
  '(c) chain of 2,000 fragments, each spreading the next two',
  '(d) ten requests with 200 kB operationName (median)',
  '(d) /metrics size after them',
  '(d) server RSS before → after them',
];

function table(checkouts: Checkout[], columns: string[][]): string {
  const rows: Row[] = MEASURES.map((measure, i) => ({ measure, cells: columns.map((column) => column[i]) }));
  const header = `| measure | ${checkouts.map((c) => c.label).join(' | ')} |`;
  const rule = `|---|${checkouts.map(() => '---').join('|')}|`;
  return [header, rule, ...rows.map((r) => `| ${r.measure} | ${r.cells.join(' | ')} |`)].join('\n');
}

function parseArgs(argv: string[]): Checkout[] {
  const checkouts: Checkout[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] !== '--compare') throw new Error(`unknown argument ${argv[i]} (usage: bench:trust [-- --compare <dir of a built checkout>])`);
    const dir = path.resolve(argv[++i] ?? '');
    if (!existsSync(path.join(dir, 'bin', 'hub.js')) || !existsSync(path.join(dir, 'dist'))) throw new Error(`--compare ${dir}: not a built checkout (run npm ci && npm run build there)`);
    checkouts.push({ label: `${path.basename(dir)} (compared)`, dir });
  }
  checkouts.push({ label: 'this checkout', dir: ROOT });
  return checkouts;
}

async function main(): Promise<void> {
  const checkouts = parseArgs(process.argv.slice(2));
  const cluster = await openCluster();
  try {
    const columns: string[][] = [];
    for (const [i, checkout] of checkouts.entries()) {
      console.error(`${checkout.label}: migrating and seeding a scratch database…`);
      const url = await cluster.create(`hub_bench_trust_${Date.now().toString(36)}_${i}`);
      const userId = await prepareDatabase(checkout, url);
      console.error(`${checkout.label}: measuring…`);
      columns.push(await measure(checkout, url, userId));
    }
    console.log(`\nServer CPU: the server's main thread across the request (median); wall: as the client saw it.\n`);
    console.log(table(checkouts, columns));
  } finally {
    await cluster.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
