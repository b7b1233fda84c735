/**
 * `npm run bench`: seeds the standard data set into the bench's own database (once), starts the
 * built server in production mode and the floor server beside it, drives both over HTTP with
 * autocannon at 10 connections, and writes bench/RESULTS.md. Every process it starts, it stops.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { print } from 'graphql';
import { Client } from 'pg';
import { DashboardDocument } from '../examples/dashboard-client/generated';
import { createDataSource } from '../ormconfig';
import { signToken } from '../src/auth/tokens';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../src/db/embedded';
import { seed } from '../src/seed/seed';

const ROOT = path.join(__dirname, '..', '..');
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 10;
/** BENCH_QUICK=1: only the 100-session Dashboard and the floor, nothing written: for profiling loops. */
const QUICK = process.env.BENCH_QUICK === '1';
const STANDARD = { users: 1000, sessions: 20_000, messages: 400_000, skills: 50, seed: 'bench' };

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  sql: number | string;
  rssMb: number;
  errors: number;
  note?: string;
}

/** The client team's Dashboard document (examples/dashboard-client), as the tests measure it. */
const DASHBOARD = print(DashboardDocument);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = require('node:net').createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
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

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

async function gql(url: string, token: string, query: string, variables: object = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(`bench query failed: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return { data: body.data, sql: Number(response.headers.get('x-sql-statements')) };
}

/** Runs autocannon against `url` while sampling the server's RSS. */
async function load(
  name: string,
  pid: number,
  options: autocannon.Options,
  sql: number | string,
  note?: string,
): Promise<Row> {
  let peak = rssMb(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  clearInterval(sampler);
  const row: Row = {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    sql,
    rssMb: Math.round(peak),
    errors: result.errors + result.non2xx,
    note,
  };
  console.log(`${name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${sql} SQL, ${row.rssMb} MB, ${row.errors} errors`);
  return row;
}

async function openBenchDatabase(): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (process.env.DATABASE_URL) {
    const base = new URL(process.env.DATABASE_URL);
    base.pathname = '/postgres';
    const admin = new Client({ connectionString: base.toString() });
    await admin.connect();
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'hub_bench'`);
    if (!exists.rowCount) await admin.query('CREATE DATABASE hub_bench');
    await admin.end();
    base.pathname = '/hub_bench';
    return { url: base.toString() };
  }
  const embedded = await startEmbeddedPostgres(path.join(ROOT, '.bench'));
  return { url: embedded.url, embedded };
}

/** Times `hub seed` of the standard data set into a scratch database, then drops it. */
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
    await seed(ds, STANDARD);
    const seconds = (Date.now() - started) / 1000;
    await ds.destroy();
    return seconds;
  } finally {
    await admin.query('DROP DATABASE IF EXISTS hub_bench_seed WITH (FORCE)');
    await admin.end();
  }
}

function markdown(rows: Row[], seedSeconds: number, floorRps: number, floorP99: number): string {
  const dash100 = rows.find((r) => r.name === 'Dashboard, 100 sessions')!;
  const deep = rows.find((r) => r.name.startsWith('Deep page'))!;
  const first = rows.find((r) => r.name.startsWith('First page'))!;
  const sqlCounts = rows.filter((r) => r.name.startsWith('Dashboard')).map((r) => r.sql);
  const check = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = [
    '# Benchmark results',
    '',
    `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version};`,
    `autocannon, ${CONNECTIONS} connections, ${DURATION} s per row; server built and run with NODE_ENV=production.`,
    `Data: ${STANDARD.users} users, ${STANDARD.sessions} sessions, ${STANDARD.messages} messages, ${STANDARD.skills} skills (seed "${STANDARD.seed}").`,
    '',
    '| row | requests/s | p50 ms | p99 ms | SQL / request | peak RSS MB | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.sql} | ${r.rssMb} | ${r.errors} |`),
    `| \`hub seed\` of the standard data set | | | | | | ${seedSeconds.toFixed(1)} s |`,
    '',
    '## Targets',
    '',
    `- Dashboard at 100 sessions vs the floor: ${(dash100.rps / floorRps).toFixed(2)}× the floor's requests/s (target ≥ 0.75×): ${check(dash100.rps / floorRps >= 0.75)}`,
    `- p99 at 100 sessions: ${dash100.p99} ms vs the floor's ${floorP99} ms = ${(dash100.p99 / floorP99).toFixed(2)}× (target < 2.5×): ${check(dash100.p99 / floorP99 < 2.5)}`,
    `- Deep page (after row 10,000) vs first page latency (p50): ${deep.p50} ms vs ${first.p50} ms (target within 1.5×): ${check(deep.p50 <= first.p50 * 1.5 + 1)}`,
    `- SQL statements per Dashboard request at 10 / 100 / 500 sessions: ${sqlCounts.join(' / ')}: ${check(new Set(sqlCounts).size === 1)}`,
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const db = await openBenchDatabase();
  const stopAll = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await db.embedded?.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations();
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM users');
    if (n < STANDARD.users) {
      console.log('seeding the standard data set into the bench database…');
      await seed(ds, STANDARD);
    }
    // What autovacuum would have done by now on a live server: statistics and the visibility map.
    await ds.query('VACUUM ANALYZE');
    const [admin] = await ds.query(`SELECT id FROM users WHERE role = 'ADMIN' ORDER BY created_at LIMIT 1`);
    // Sessions with ~50 messages for the delete/restore row, made once.
    const [{ heavy }] = await ds.query(`SELECT count(*)::int AS heavy FROM sessions WHERE title LIKE 'bench-heavy %'`);
    if (heavy < 200) {
      await ds.query(`
        WITH s AS (
          INSERT INTO sessions (user_id, title) SELECT $1, 'bench-heavy ' || i FROM generate_series(1, 200) i RETURNING id)
        INSERT INTO messages (session_id, role, content, created_at)
        SELECT s.id, 'USER', 'heavy message ' || j, now() - (j || ' seconds')::interval FROM s, generate_series(1, 50) j`, [admin.id]);
    }
    const heavyIds: string[] = (await ds.query(`SELECT id FROM sessions WHERE title LIKE 'bench-heavy %' AND deleted_at IS NULL`)).map((r: { id: string }) => r.id);
    const postIds: string[] = (await ds.query(`SELECT id FROM sessions WHERE deleted_at IS NULL AND title NOT LIKE 'bench-heavy %' ORDER BY created_at DESC LIMIT 1000`)).map((r: { id: string }) => r.id);
    await ds.destroy();

    const seedSeconds = QUICK ? NaN : await timeSeed(db.url);
    if (!QUICK) console.log(`hub seed (standard data set): ${seedSeconds.toFixed(1)} s`);

    const port = await freePort();
    // BENCH_CPU_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops.
    const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
    // The flags `npm start` and bin/hub.js run with (see bin/hub.js), unless BENCH_NODE_FLAGS says otherwise.
    profile.push(...(process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean));
    const server = spawn(process.execPath, [...profile, path.join(ROOT, 'bin', 'hub.js'), 'serve', '--no-migrate'], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        NODE_ENV: 'production',
        HUB_JWT_SECRET: SECRET,
        PORT: String(port),
        HUB_MAX_PAGE_SIZE: '500',
        HUB_MAX_QUERY_COST: '10000000',
        HUB_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(server);
    const base = `http://127.0.0.1:${port}`;
    await waitForReady(`${base}/readyz`, server);
    const url = `${base}/graphql`;
    const token = signToken(SECRET, admin.id, 3600);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const post = (query: string, variables: object) => ({ url, method: 'POST' as const, headers, body: JSON.stringify({ query, variables }) });

    const floorPort = await freePort();
    const floor = spawn(process.execPath, [path.join(__dirname, 'floor.js')], {
      env: { ...process.env, DATABASE_URL: db.url, PORT: String(floorPort) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(floor);
    await waitForReady(`http://127.0.0.1:${floorPort}/?first=1`, floor);

    const rows: Row[] = [];
    for (const first of QUICK ? [100] : [10, 100, 500]) {
      const { sql } = await gql(url, token, DASHBOARD, { first });
      rows.push(await load(`Dashboard, ${first} sessions`, server.pid!, post(DASHBOARD, { first }), sql));
    }
    const floorRow = await load('Floor: one hand-written SQL statement, 100 sessions', floor.pid!, { url: `http://127.0.0.1:${floorPort}/?first=100` }, 1);
    rows.push(floorRow);
    if (QUICK) {
      console.log(`Dashboard/floor: ${(rows[0].rps / floorRow.rps).toFixed(2)}×`);
      return;
    }

    // The cursor of row 10,000, reached by paging.
    const PAGE = `query Page($first: Int!, $after: String) { sessions(first: $first, after: $after) { pageInfo { endCursor } nodes { id title createdAt } } }`;
    let after: string | null = null;
    for (let i = 0; i < 20; i += 1) after = (await gql(url, token, PAGE, { first: 500, after })).data.sessions.pageInfo.endCursor;
    const pageSql = (await gql(url, token, PAGE, { first: 50, after })).sql;
    rows.push(await load('First page: sessions(first: 50)', server.pid!, post(PAGE, { first: 50, after: null }), pageSql));
    rows.push(await load('Deep page: sessions(first: 50, after: row 10,000)', server.pid!, post(PAGE, { first: 50, after }), pageSql));

    // Each request of a write row takes the next variables in turn (a new session each time).
    const each = (query: string, variables: (i: number) => object): autocannon.Options => {
      let i = 0;
      return { url, method: 'POST', headers, requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ query, variables: variables(i++) }) }) }] };
    };
    const POST = `mutation Post($input: PostMessageInput!) { postMessage(input: $input) { id } }`;
    const postVariables = (i: number) => ({ input: { sessionId: postIds[i % postIds.length], role: 'USER', content: `bench message ${i}` } });
    rows.push(await load('Write: postMessage', server.pid!, each(POST, postVariables), 'n/a', 'messages/s'));
    const CYCLE = `mutation Cycle($id: ID!) { deleteSession(id: $id) { id } restoreSession(id: $id) { id } }`;
    const cycleVariables = (i: number) => ({ id: heavyIds[i % heavyIds.length] });
    rows.push(await load('Write: deleteSession + restoreSession, 50 messages each', server.pid!, each(CYCLE, cycleVariables), 'n/a', 'pairs/s'));

    const report = markdown(rows, seedSeconds, floorRow.rps, floorRow.p99);
    writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), report);
    console.log(`\n${report}`);
  } finally {
    await stopAll();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
