/**
 * `npm run bench [-- --scale 10]`: seeds the bench databases (once), starts the built server in
 * production mode, PostGraphile 5 and the floor beside it, each in its own process with its own
 * pool of the same size, checks that all three answer the canonical dashboard alike, drives them
 * over HTTP with autocannon at 10 connections, taking turns, and writes bench/RESULTS.md. Every
 * process it starts, it stops.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { print } from 'graphql';
import { Client } from 'pg';
import { DashboardDocument } from '../examples/dashboard-client/gql/graphql';
import { createDataSource } from '../ormconfig';
import { signToken } from '../src/auth/tokens';
import { seed } from '../src/seed/seed';
import { assertSameDashboards, normalizeOurs, normalizePostGraphile } from './check';
import { DATA_SETS, openBenchCluster } from './databases';
import { CANONICAL, newDocument } from './documents';
import { LIVE_P99_TARGETS } from './live-targets';
import { dashboardRows, prepareDashboardRows } from './dashboards';
import { POSTGRAPHILE_DASHBOARD } from './postgraphile';
import { freePort } from '../src/common/ports';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags';

const ROOT = path.join(__dirname, '..', '..');
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
/** BENCH_QUICK=1: only the 100-session canonical dashboard of the three servers, nothing written. */
const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 5 : 10));
/** Each (size, server) row is measured this many times, the servers taking turns in each round. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 2));
const CONNECTIONS = 10;
/** Pool size of every server measured (the server's default; PostGraphile and the floor get the same). */
const POOL = 10;
/** BENCH_SIZES=10,100: the canonical rows' page sizes (default 10, 100, 500; quick: 100). */
const SIZES = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : QUICK ? [100] : [10, 100, 500];

/** `--only dashboards`: issue 27's rows alone (search beside ILIKE, activity, sync health), nothing
 * else measured; they are written to RESULTS-dashboards.md and RESULTS.md is left as it is. */
const ONLY = (() => {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--only');
  if (i < 0) return undefined;
  if (argv[i + 1] !== 'dashboards') throw new Error('--only takes: dashboards');
  return argv[i + 1];
})();
const DASHBOARDS_ONLY = ONLY === 'dashboards';

function scalesFromArgs(argv: string[]): number[] {
  const i = argv.indexOf('--scale');
  if (i < 0) return [1];
  const scale = Number(argv[i + 1]);
  if (!DATA_SETS[scale]) throw new Error(`--scale takes one of ${Object.keys(DATA_SETS).join(', ')}`);
  return scale === 1 ? [1] : [1, scale];
}

/** The client team's full Dashboard document (examples/dashboard-client), as the tests measure it. */
const DASHBOARD = print(DashboardDocument);

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  sql: number | string;
  rssMb: number;
  errors: number;
}


/** Resident set size of a process in MB, or 0 once it is gone. */
function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * CPU time of a process so far, in ms, from /proc/<pid>/stat (user + system, all threads; with
 * `reaped`, also that of its exited children), or 0 once it is gone. `name`: only a process of
 * that command name counts.
 */
function processCpuMs(pid: number | string, reaped = false, name?: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (name && !stat.includes(`(${name})`)) return 0;
    const fields = stat.split(') ')[1].split(' ');
    // utime, stime, cutime, cstime, in clock ticks (100 Hz)
    const ticks = Number(fields[11]) + Number(fields[12]) + (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU time of every PostgreSQL process on this machine so far, in ms: the backends that have
 * exited count in their postmaster's. */
function postgresCpuMs(): number {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .reduce((total, pid) => total + processCpuMs(pid, true, 'postgres'), 0);
}

/** CPU time of a process's main thread so far, in ns (the event loop: where a document is parsed and compiled). */
function mainThreadCpuNs(pid: number): bigint {
  return BigInt(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/**
 * The first sight of a new 14 kB document (issue #26): five distinct texts, each sent once (after
 * two unrecorded ones); the server's main-thread CPU across each request and the wall time the
 * client saw, medians.
 */
async function firstSight(url: string, pid: number, token: string, run: string): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu: number[] = [];
  const wall: number[] = [];
  // Two unrecorded texts first: V8 compiles the validation code of a large document on its first uses.
  for (let i = 0; i < 2; i += 1) await postJson(url, { query: newDocument(`${run}w${i}`) }, { authorization: `Bearer ${token}` });
  for (let i = 0; i < 5; i += 1) {
    const before = mainThreadCpuNs(pid);
    const started = process.hrtime.bigint();
    await postJson(url, { query: newDocument(`${run}x${i}`) }, { authorization: `Bearer ${token}` });
    wall.push(Number(process.hrtime.bigint() - started) / 1e6);
    cpu.push(Number(mainThreadCpuNs(pid) - before) / 1e6);
  }
  return { cpuMs: median(cpu), wallMs: median(wall) };
}

async function waitForReady(url: string, child: ChildProcess, init?: RequestInit): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, init)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

async function postJson(url: string, body: object, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = (await response.json()) as { data?: any; errors?: unknown[] };
  if (json.errors) throw new Error(`${url}: query failed: ${JSON.stringify(json.errors).slice(0, 500)}`);
  return { body: json, sql: Number(response.headers.get('x-sql-statements')) };
}

/** Runs autocannon against one server while sampling its RSS. */
async function load(name: string, pid: number, options: autocannon.Options, sql: number | string): Promise<Row> {
  let peak = rssMb(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  const cpuBefore = processCpuMs(pid);
  const postgresBefore = postgresCpuMs();
  const result = await autocannon({ connections: CONNECTIONS, duration: warming ? Math.min(3, DURATION) : DURATION, ...options });
  const cpuPerRequest = (processCpuMs(pid) - cpuBefore) / Math.max(1, result.requests.total);
  const postgresPerRequest = (postgresCpuMs() - postgresBefore) / Math.max(1, result.requests.total);
  clearInterval(sampler);
  const row: Row = {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    sql,
    rssMb: Math.round(peak),
    errors: result.errors + result.non2xx,
  };
  if (warming) return row;
  console.log(
    `${name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${sql} SQL, ${row.rssMb} MB, ${row.errors} errors, ` +
      `server CPU ${cpuPerRequest.toFixed(2)} ms/request, ` +
      `PostgreSQL CPU ${postgresPerRequest.toFixed(2)} ms/request, load ${os.loadavg()[0].toFixed(1)}`,
  );
  return row;
}

let warming = false;
async function warmUp(run: () => Promise<Row>): Promise<void> {
  warming = true;
  try {
    await run();
  } finally {
    warming = false;
  }
}

/** Times `hub seed` of the standard data set into a scratch database next to `url`, then drops it. */
async function timeSeed(url: string): Promise<number> {
  const scratch = new URL(url);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  scratch.pathname = '/hub_bench_seed';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS hub_bench_seed WITH (FORCE)');
  await admin.query('CREATE DATABASE hub_bench_seed');
  try {
    const ds = createDataSource({ url: scratch.toString(), poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations();
    const started = Date.now();
    await seed(ds, DATA_SETS[1]);
    const seconds = (Date.now() - started) / 1000;
    await ds.destroy();
    return seconds;
  } finally {
    await admin.query('DROP DATABASE IF EXISTS hub_bench_seed WITH (FORCE)');
    await admin.end();
  }
}

/** The three servers over one bench database, each in its own process. */
async function startServers(url: string, children: ChildProcess[]) {
  const spawnChild = (args: string[], env: Record<string, string>) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, DATABASE_URL: url, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  const port = await freePort();
  // BENCH_CPU_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops.
  const flags = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  // The flags a serving process runs with (src/cli/v8-flags.ts), unless BENCH_NODE_FLAGS says otherwise.
  const nodeFlags = (variable: string, byDefault: readonly string[] = SERVER_V8_FLAGS) => process.env[variable]?.split(' ').filter(Boolean) ?? [...byDefault];
  flags.push(...nodeFlags('BENCH_NODE_FLAGS'));
  const serverEnv = (p: number) => ({
    NODE_ENV: 'production',
    HUB_JWT_SECRET: SECRET,
    PORT: String(p),
    HUB_MAX_PAGE_SIZE: '500',
    HUB_MAX_QUERY_COST: '10000000',
    HUB_LOG_LEVEL: 'warn',
  });
  const ours = spawnChild([...flags, path.join(ROOT, 'bin', 'hub.js'), 'serve', '--no-migrate'], serverEnv(port));
  const beforePort = await freePort();
  const before = COMPARE
    ? spawnChild([...nodeFlags('BENCH_COMPARE_FLAGS'), path.join(path.resolve(COMPARE), 'bin', 'hub.js'), 'serve', '--no-migrate'], serverEnv(beforePort))
    : undefined;
  const pgPort = await freePort();
  // PostGraphile runs with our young generation (BENCH_POSTGRAPHILE_FLAGS to try others): the
  // ratios compare the engines, not their young generations. Not with our pretenuring flag: it
  // made PostGraphile no faster (bench/README.md, "Tenth round").
  const peerFlags = SERVER_V8_FLAGS.filter((flag) => flag.startsWith('--max-semi-space-size'));
  const pgl = spawnChild([...nodeFlags('BENCH_POSTGRAPHILE_FLAGS', peerFlags), path.join(__dirname, 'postgraphile.js')], {
    NODE_ENV: 'production',
    PORT: String(pgPort),
    POOL_SIZE: String(POOL),
  });
  const floorPort = await freePort();
  const floor = spawnChild([path.join(__dirname, 'floor.js')], { PORT: String(floorPort), POOL_SIZE: String(POOL) });
  const base = `http://127.0.0.1:${port}`;
  const pgUrl = `http://127.0.0.1:${pgPort}/graphql`;
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  await waitForReady(`${base}/readyz`, ours);
  if (before) await waitForReady(`http://127.0.0.1:${beforePort}/readyz`, before);
  await waitForReady(pgUrl, pgl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
  await waitForReady(`${floorUrl}/?first=1`, floor);
  return { ours, before, pgl, floor, url: `${base}/graphql`, beforeUrl: `http://127.0.0.1:${beforePort}/graphql`, pgUrl, floorUrl };
}

/** `before`: the build of BENCH_COMPARE=<dir> (another checkout, built), measured beside ours. */
type Server = 'ours' | 'before' | 'postgraphile' | 'floor';
const COMPARE = process.env.BENCH_COMPARE;

interface Measured {
  scale: number;
  first: number;
  server: Server;
  rounds: Row[];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The first sight of a new document, ours (and the BENCH_COMPARE build's). */
interface FirstSight {
  ours: { cpuMs: number; wallMs: number };
  before?: { cpuMs: number; wallMs: number };
}

/**
 * The live fan-out's p99 from bench/RESULTS-live.md (`npm run bench:live`, measured on its own), if
 * there is one: each shape's median p99 from the change's time (the older format: its one figure).
 */
function liveP99(): { p99: number; when: string; shape: string }[] {
  try {
    const text = readFileSync(path.join(ROOT, 'bench', 'RESULTS-live.md'), 'utf8');
    const when = /Run on (\d{4}-\d\d-\d\d)/.exec(text)?.[1] ?? 'undated';
    const shapes = [...text.matchAll(/^## ([^:\n]+):[\s\S]*?p99 from the change’s time (\d+) ms/gm)].map((m) => ({ shape: m[1], p99: Number(m[2]), when }));
    if (shapes.length) return shapes;
    const old = /delivery latency p50 \/ p99 \| [\d.]+ ms \/ ([\d.]+) ms/.exec(text)?.[1];
    return old ? [{ shape: 'messageAdded', p99: Number(old), when }] : [];
  } catch {
    return [];
  }
}

/** `--only dashboards`' report: issue 27's rows of every scale run, each beside its ILIKE floor. */
function dashboardsReport(rows: Row[], notes: string[]): string {
  return [
    '# Dashboard rows (`npm run bench -- --scale 10 --only dashboards`)',
    '',
    `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; autocannon, ${CONNECTIONS} connections,`,
    `${DURATION} s per row, load average ${os.loadavg()[0].toFixed(1)} at the end. The bench databases (\`hub seed\`, then VACUUM ANALYZE):`,
    ...Object.entries(DATA_SETS).map(([scale, d]) => `scale ${scale}: ${d.users} users, ${d.sessions} sessions, ${d.messages} messages, ${d.skills} skills.`),
    'What each row asks is in bench/README.md ("Dashboard rows"); the ILIKE floors are what PostGraphile\'s',
    'connection-filter `includesInsensitive` compiles to, served by one prepared statement in its own process.',
    '',
    '| row (x1: scale 1, x10: scale 10) | requests/s | p50 ms | p99 ms | SQL / request | peak RSS MB | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.sql} | ${r.rssMb} | ${r.errors} |`),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}

function markdown(measured: Measured[], extra: Row[], seedSeconds: number, notes: string[], sight?: FirstSight): string {
  const agg = (m: Measured) => ({
    rps: mean(m.rounds.map((r) => r.rps)),
    p50: mean(m.rounds.map((r) => r.p50)),
    p99: mean(m.rounds.map((r) => r.p99)),
    sql: m.rounds[0].sql,
    rss: Math.max(...m.rounds.map((r) => r.rssMb)),
    errors: m.rounds.reduce((a, r) => a + r.errors, 0),
  });
  const find = (scale: number, first: number, server: Measured['server']) =>
    measured.find((m) => m.scale === scale && m.first === first && m.server === server)!;
  const check = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = [
    '# Benchmark results',
    '',
    `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version};`,
    `autocannon, ${CONNECTIONS} connections, ${DURATION} s per row and round, ${ROUNDS} rounds with the servers taking turns (figures are`,
    `the means over rounds; the ratio range is the lowest and highest ratio of one round). Each server runs in its own process with a pool`,
    `of ${POOL} connections; ours built and run with NODE_ENV=production. Data sets (\`hub seed\`, then VACUUM ANALYZE):`,
    ...Object.entries(DATA_SETS).map(([s, d]) => `scale ${s}: ${d.users} users, ${d.sessions} sessions, ${d.messages} messages, ${d.skills} skills.`),
    '',
    'The canonical dashboard: `sessions(first: N) { nodes { id title isSyncing createdAt owner { id displayName } skills { id name }',
    'messageCount messages(first: 3, orderBy: CREATED_AT_DESC) { nodes { id role content createdAt } } } }` as an admin; PostGraphile',
    '(Amber preset) answers its natural equivalent (bench/postgraphile.ts); the floor is one hand-written SQL statement building the same',
    'JSON (bench/floor.ts). All three answers are compared, normalized, before any row is measured; the bench fails if they differ.',
    '',
    '| scale | sessions | server | requests/s | p50 ms | p99 ms | SQL / request | peak RSS MB | errors | ours / PostGraphile (rounds) | ours / floor |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const targets: string[] = [];
  for (const scale of [...new Set(measured.map((m) => m.scale))]) {
    for (const first of [...new Set(measured.filter((m) => m.scale === scale).map((m) => m.first))]) {
      const [o, p, f] = (['ours', 'postgraphile', 'floor'] as const).map((s) => find(scale, first, s));
      const b = measured.find((m) => m.scale === scale && m.first === first && m.server === 'before');
      const [ao, ap, af] = [o, p, f].map(agg);
      const vsPg = (m: Measured) => {
        const perRound = m.rounds.map((r, i) => r.rps / p.rounds[i].rps);
        return `**${(agg(m).rps / ap.rps).toFixed(2)}×** (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
      };
      const ratio = ao.rps / ap.rps;
      const table: [string, ReturnType<typeof agg>, string, string][] = [
        ['this server', ao, vsPg(o), `${(ao.rps / af.rps).toFixed(2)}×`],
        ...(b ? [['before (BENCH_COMPARE build)', agg(b), vsPg(b), `${(agg(b).rps / af.rps).toFixed(2)}×`] as [string, ReturnType<typeof agg>, string, string]] : []),
        ['PostGraphile 5.1.5', ap, '', ''],
        ['floor: one SQL statement', af, '', ''],
      ];
      for (const [label, a, c1, c2] of table) {
        lines.push(`| ${scale} | ${first} | ${label} | ${a.rps.toFixed(0)} | ${a.p50.toFixed(0)} | ${a.p99.toFixed(0)} | ${a.sql} | ${a.rss} | ${a.errors} | ${c1} | ${c2} |`);
      }
      const vsFloor = ao.rps / af.rps;
      targets.push(
        `- scale ${scale}, ${first} sessions: ${ratio.toFixed(2)}× PostGraphile's requests/s (target ≥ 1.25×): ${check(ratio >= 1.25)}; ` +
          `p99 ${ao.p99.toFixed(0)} ms vs ${ap.p99.toFixed(0)} ms: ${check(ao.p99 <= ap.p99)}` +
          (first >= 100 ? `; ${vsFloor.toFixed(2)}× the one-statement floor (target ≥ 0.8×): ${check(vsFloor >= 0.8)}` : ''),
      );
    }
    const sqlCounts = measured.filter((m) => m.scale === scale && m.server === 'ours').map((m) => m.rounds[0].sql);
    targets.push(`- scale ${scale}: SQL statements per canonical request at ${SIZES.join(' / ')} sessions: ${sqlCounts.join(' / ')}: ${check(new Set(sqlCounts).size === 1)}`);
  }
  if (extra.length) {
    lines.push('', '| other rows (scale 1 unless marked x10) | requests/s | p50 ms | p99 ms | SQL / request | peak RSS MB | errors |', '|---|---:|---:|---:|---:|---:|---:|');
    lines.push(...extra.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.sql} | ${r.rssMb} | ${r.errors} |`));
    if (Number.isFinite(seedSeconds)) lines.push(`| \`hub seed\` of the standard data set | | | | | | ${seedSeconds.toFixed(1)} s |`);
  }
  if (sight) {
    const was = sight.before ? ` (BENCH_COMPARE build: ${sight.before.cpuMs.toFixed(1)} ms CPU, ${sight.before.wallMs.toFixed(1)} ms wall)` : '';
    targets.push(
      `- first sight of a new 14 kB document: ${sight.ours.cpuMs.toFixed(1)} ms of server CPU, ${sight.ours.wallMs.toFixed(1)} ms wall (median of 5 texts)${was} (target ≤ 25 ms): ${check(sight.ours.cpuMs <= 25)}`,
    );
  }
  const live = liveP99();
  if (!live.length) targets.push('- live fan-out p99: not measured (`npm run bench:live` writes RESULTS-live.md)');
  for (const { shape, p99, when } of live) {
    // Each shape against its own issue's target (live-targets.ts); a shape without one is reported.
    const target = LIVE_P99_TARGETS[shape];
    const judged = target ? `target ≤ ${target.p99Ms} ms, ${target.issue}` : 'no target';
    targets.push(
      `- live fan-out (${shape}), two processes at 100 writes/s: p99 ${p99} ms (${judged}; \`npm run bench:live\`, RESULTS-live.md of ${when})${target ? `: ${check(p99 <= target.p99Ms)}` : ''}`,
    );
  }
  lines.push('', '## Targets', '', ...targets, ...notes, '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const scales = scalesFromArgs(process.argv.slice(2));
  const children: ChildProcess[] = [];
  const cluster = await openBenchCluster();
  const stopChildren = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    children.length = 0;
  };
  process.once('SIGINT', () => void stopChildren().then(() => cluster.stop()).then(() => process.exit(130)));
  const measured: Measured[] = [];
  const extra: Row[] = [];
  const notes: string[] = [];
  let seedSeconds = NaN;
  let sight: FirstSight | undefined;
  try {
    for (const scale of scales) {
      const dbUrl = await cluster.database(scale);
      const ds = createDataSource({ url: dbUrl, poolSize: 2 });
      await ds.initialize();
      const [admin] = await ds.query(`SELECT id FROM users WHERE role = 'ADMIN' ORDER BY created_at LIMIT 1`);
      let heavyIds: string[] = [];
      let postIds: string[] = [];
      if (scale === 1 && !QUICK && !DASHBOARDS_ONLY) {
        // Sessions with ~50 messages for the delete/restore row, made once.
        const [{ heavy }] = await ds.query(`SELECT count(*)::int AS heavy FROM sessions WHERE title LIKE 'bench-heavy %'`);
        if (heavy < 200) {
          await ds.query(`
            WITH s AS (
              INSERT INTO sessions (user_id, title) SELECT $1, 'bench-heavy ' || i FROM generate_series(1, 200) i RETURNING id)
            INSERT INTO messages (session_id, role, content, created_at)
            SELECT s.id, 'USER', 'heavy message ' || j, now() - (j || ' seconds')::interval FROM s, generate_series(1, 50) j`, [admin.id]);
          // As the seeded data (VACUUM ANALYZE): these are the dashboard's first page, and unvacuumed
          // their count reads visit the heap (the first run after seeding measured that state).
          await ds.query('VACUUM ANALYZE');
        }
        heavyIds = (await ds.query(`SELECT id FROM sessions WHERE title LIKE 'bench-heavy %' AND deleted_at IS NULL`)).map((r: { id: string }) => r.id);
        postIds = (await ds.query(`SELECT id FROM sessions WHERE deleted_at IS NULL AND title NOT LIKE 'bench-heavy %' ORDER BY created_at DESC LIMIT 1000`)).map((r: { id: string }) => r.id);
      }
      if (!QUICK) await prepareDashboardRows(ds);
      await ds.destroy();

      const s = await startServers(dbUrl, children);
      const token = signToken(SECRET, admin.id, 3600);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      const post = (url: string, query: string, variables: object, h: Record<string, string> = headers) =>
        ({ url, method: 'POST' as const, headers: h, body: JSON.stringify({ query, variables }) });

      // The admin's first request looks them up; later ones are what a dashboard's polling costs
      // (with HUB_REMEMBER_VIEWERS, production's default, no lookup of their own): counted after it.
      await postJson(s.url, { query: '{ me { id } }' }, { authorization: `Bearer ${token}` });
      if (s.before) await postJson(s.beforeUrl, { query: '{ me { id } }' }, { authorization: `Bearer ${token}` });
      // Same sessions, skills, counts and messages from all three, or no figures at all.
      const sql: Record<number, number> = {};
      const beforeSql: Record<number, number> = {};
      for (const first of DASHBOARDS_ONLY ? [] : SIZES) {
        const ours = await postJson(s.url, { query: CANONICAL, variables: { first } }, { authorization: `Bearer ${token}` });
        const pgl = await postJson(s.pgUrl, { query: POSTGRAPHILE_DASHBOARD, variables: { first } });
        const floor = (await (await fetch(`${s.floorUrl}/?first=${first}`)).json()) as object;
        const answers: Record<string, ReturnType<typeof normalizeOurs>> = {
          ours: normalizeOurs(ours.body),
          postgraphile: normalizePostGraphile(pgl.body),
          floor: normalizeOurs(floor),
        };
        if (s.before) {
          const before = await postJson(s.beforeUrl, { query: CANONICAL, variables: { first } }, { authorization: `Bearer ${token}` });
          answers.before = normalizeOurs(before.body);
          beforeSql[first] = before.sql;
        }
        assertSameDashboards(first, answers);
        sql[first] = ours.sql;
        console.log(`scale ${scale}, ${first} sessions: the three answers match (${ours.sql} SQL statements for ours)`);
      }

      for (const first of DASHBOARDS_ONLY ? [] : SIZES) {
        const servers: Server[] = s.before ? ['ours', 'before', 'postgraphile', 'floor'] : ['ours', 'postgraphile', 'floor'];
        const rows = Object.fromEntries(servers.map((server) => [server, { scale, first, server, rounds: [] as Row[] }])) as Record<Server, Measured>;
        measured.push(...Object.values(rows));
        const runs: Record<Server, () => Promise<Row>> = {
          ours: () => load(`x${scale} ours ${first}`, s.ours.pid!, post(s.url, CANONICAL, { first }), sql[first]),
          before: () => load(`x${scale} before ${first}`, s.before!.pid!, post(s.beforeUrl, CANONICAL, { first }), beforeSql[first]),
          postgraphile: () =>
            load(`x${scale} PostGraphile ${first}`, s.pgl.pid!, post(s.pgUrl, POSTGRAPHILE_DASHBOARD, { first }, { 'content-type': 'application/json' }), 1),
          floor: () => load(`x${scale} floor ${first}`, s.floor.pid!, { url: `${s.floorUrl}/?first=${first}` }, 1),
        };
        // A short unrecorded warm-up each (JIT, pools, caches), then the rounds.
        for (const server of servers) await warmUp(runs[server]);
        for (let round = 0; round < ROUNDS; round += 1) {
          // Taking turns, in a different order each round, so drift on the shared machine hits all alike.
          const order = round % 2 === 0 ? servers : [...servers].reverse();
          for (const server of order) rows[server].rounds.push(await runs[server]());
        }
      }

      if (scale === 1 && !QUICK && !DASHBOARDS_ONLY) {
        // Each run sends texts no server saw before (servers are new per run, but a tag per run is cheap).
        const run = Date.now().toString(36);
        sight = { ours: await firstSight(s.url, s.ours.pid!, token, run) };
        if (s.before) sight.before = await firstSight(s.beforeUrl, s.before.pid!, token, run);
        console.log(`first sight of a new 14 kB document: ${sight.ours.cpuMs.toFixed(1)} ms CPU${sight.before ? ` (before: ${sight.before.cpuMs.toFixed(1)} ms)` : ''}`);
        for (const first of [10, 100, 500]) {
          const { sql: n } = await postJson(s.url, { query: DASHBOARD, variables: { first } }, { authorization: `Bearer ${token}` });
          extra.push(await load(`Full Dashboard (examples/), ${first} sessions`, s.ours.pid!, post(s.url, DASHBOARD, { first }), n));
        }
        extra.push(await load('Floor of the full Dashboard, 100 sessions', s.floor.pid!, { url: `${s.floorUrl}/full?first=100` }, 1));

        // The cursor of row 10,000, reached by paging.
        const PAGE = `query Page($first: Int!, $after: String) { sessions(first: $first, after: $after) { pageInfo { endCursor } nodes { id title createdAt } } }`;
        let after: string | null = null;
        const auth = { authorization: `Bearer ${token}` };
        for (let i = 0; i < 20; i += 1) after = (await postJson(s.url, { query: PAGE, variables: { first: 500, after } }, auth)).body.data.sessions.pageInfo.endCursor;
        const pageSql = (await postJson(s.url, { query: PAGE, variables: { first: 50, after } }, auth)).sql;
        extra.push(await load('First page: sessions(first: 50)', s.ours.pid!, post(s.url, PAGE, { first: 50, after: null }), pageSql));
        extra.push(await load('Deep page: sessions(first: 50, after: row 10,000)', s.ours.pid!, post(s.url, PAGE, { first: 50, after }), pageSql));

        // Each request of a write row takes the next variables in turn (a new session each time).
        const each = (query: string, variables: (i: number) => object): autocannon.Options => {
          let i = 0;
          return { url: s.url, method: 'POST', headers, requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ query, variables: variables(i++) }) }) }] };
        };
        const POST = `mutation Post($input: PostMessageInput!) { postMessage(input: $input) { id } }`;
        const postVariables = (i: number) => ({ input: { sessionId: postIds[i % postIds.length], role: 'USER', content: `bench message ${i}` } });
        extra.push(await load('Write: postMessage (messages/s)', s.ours.pid!, each(POST, postVariables), 'n/a'));
        const CYCLE = `mutation Cycle($id: ID!) { deleteSession(id: $id) { id } restoreSession(id: $id) { id } }`;
        const cycleVariables = (i: number) => ({ id: heavyIds[i % heavyIds.length] });
        extra.push(await load('Write: deleteSession + restoreSession, 50 messages each (pairs/s)', s.ours.pid!, each(CYCLE, cycleVariables), 'n/a'));
      }
      if (!QUICK) {
        // Issue 27: search (beside ILIKE), activity and sync health, at every scale.
        extra.push(
          ...(await dashboardRows<Row>({
            scale,
            databaseUrl: dbUrl,
            poolSize: POOL,
            post: (query, variables) => post(s.url, query, variables),
            sqlOf: async (query, variables) => (await postJson(s.url, { query, variables }, { authorization: `Bearer ${token}` })).sql,
            loadOurs: (name, options, n) => load(name, s.ours.pid!, options, n),
            loadOther: (name, pid, options, n) => load(name, pid, options, n),
          })),
        );
      }
      await stopChildren();
      if (scale === 1 && !QUICK && !DASHBOARDS_ONLY) {
        seedSeconds = await timeSeed(dbUrl);
        console.log(`hub seed (standard data set): ${seedSeconds.toFixed(1)} s`);
      }
    }

    const report = markdown(measured, extra, seedSeconds, notes, sight);
    if (QUICK) console.log(`\n${report}`);
    else if (DASHBOARDS_ONLY) {
      // The dashboard rows of every scale run, apart from RESULTS.md (which the full run writes).
      writeFileSync(path.join(ROOT, 'bench', 'RESULTS-dashboards.md'), dashboardsReport(extra, notes));
      console.log(`\n${report}`);
    } else {
      writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), report);
      console.log(`\n${report}`);
    }
  } finally {
    await stopChildren();
    await cluster.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
