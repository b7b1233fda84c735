/**
 * `npm run bench:pooler`: the 100-session Dashboard through `hub serve --workers 4` (production
 * mode) on the standard bench data set, two rows taking turns:
 * - direct: each worker's pool of 10 connections to PostgreSQL (40 backends);
 * - PgBouncer: the same 4 × 10 client connections to PgBouncer 1.18 in transaction mode, which
 *   keeps a pool of 20 server connections (HUB_DIRECT_DATABASE_URL for LISTEN and migrations;
 *   named statements off, as the server detects for 1.18).
 * autocannon, 40 connections, BENCH_DURATION s (10) per row and round (BENCH_ROUNDS, 2). Writes
 * bench/RESULTS-pooler.md. Needs PgBouncer (`apt-get install pgbouncer`). Every process it
 * starts, it stops.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { print } from 'graphql';
import { Client } from 'pg';
import { DashboardDocument } from '../examples/dashboard-client/gql/graphql';
import { signToken } from '../src/auth/tokens';
import { openBenchCluster } from './databases';
import { pgbouncerInstalled, pgbouncerVersion, startPgBouncer } from './pgbouncer';
import { freePort } from '../src/common/ports';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags';

const ROOT = path.join(__dirname, '..', '..');
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WORKERS = 4;
const POOL_PER_WORKER = 10;
const PGBOUNCER_POOL = 20;
const CONNECTIONS = WORKERS * POOL_PER_WORKER;

interface Setup {
  name: string;
  env: Record<string, string>;
}

async function main(): Promise<void> {
  if (!pgbouncerInstalled()) throw new Error('bench:pooler needs PgBouncer: apt-get install -y pgbouncer');
  const cluster = await openBenchCluster();
  const children: ChildProcess[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-bench-pooler-'));
  fs.chmodSync(dir, 0o755);
  let bouncer: Awaited<ReturnType<typeof startPgBouncer>> | undefined;
  try {
    const url = await cluster.database(1);
    const client = new Client({ connectionString: url });
    await client.connect();
    // What the server's start-up check asks an operator to run behind a pooler.
    const [{ db }] = (await client.query('SELECT current_database() AS db')).rows;
    for (const [name, value] of [['statement_timeout', '10000ms'], ['timezone', 'UTC'], ['random_page_cost', '1.1']]) {
      await client.query(`ALTER ROLE CURRENT_USER IN DATABASE ${db} SET ${name} = '${value}'`);
    }
    const [admin] = (await client.query(`SELECT id FROM users WHERE role = 'ADMIN' ORDER BY created_at LIMIT 1`)).rows;
    await client.end();
    bouncer = await startPgBouncer(dir, url, { poolSize: PGBOUNCER_POOL });
    const token = signToken(SECRET, admin.id, 3600);
    const body = JSON.stringify({ query: print(DashboardDocument), variables: { first: 100 } });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

    const setups: Setup[] = [
      { name: `direct: ${WORKERS} workers × ${POOL_PER_WORKER} connections to PostgreSQL`, env: { DATABASE_URL: url } },
      {
        name: `PgBouncer: ${WORKERS} workers × ${POOL_PER_WORKER} client connections → pool of ${PGBOUNCER_POOL}`,
        env: { DATABASE_URL: bouncer.url, HUB_DIRECT_DATABASE_URL: url, HUB_PREPARED_STATEMENTS: 'false' },
      },
    ];
    const rows = new Map<string, { rps: number[]; p50: number[]; p99: number[]; errors: number }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const setup of setups) {
        const port = await freePort();
        const server = spawn(process.execPath, [...SERVER_V8_FLAGS, path.join(ROOT, 'bin', 'hub.js'), 'serve', '--no-migrate', '--workers', String(WORKERS)], {
          cwd: ROOT,
          env: { PATH: process.env.PATH!, NODE_ENV: 'production', HUB_JWT_SECRET: SECRET, HUB_LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), HUB_MAX_PAGE_SIZE: '500', HUB_MAX_QUERY_COST: '10000000', ...setup.env },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        children.push(server);
        const target = `http://127.0.0.1:${port}/graphql`;
        await waitForAnswer(target, headers, body);
        await autocannon({ url: target, method: 'POST', headers, body, connections: CONNECTIONS, duration: 3 });
        const result = await autocannon({ url: target, method: 'POST', headers, body, connections: CONNECTIONS, duration: DURATION });
        const row = rows.get(setup.name) ?? { rps: [], p50: [], p99: [], errors: 0 };
        row.rps.push(result.requests.average);
        row.p50.push(result.latency.p50);
        row.p99.push(result.latency.p99);
        row.errors += result.errors + result.non2xx;
        rows.set(setup.name, row);
        console.log(`${setup.name} (round ${round + 1}): ${result.requests.average.toFixed(1)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
        server.kill('SIGTERM');
        await new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.once('exit', resolve)));
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const table = [...rows].map(([name, r]) => `| ${name} | ${median(r.rps).toFixed(1)} | ${median(r.p50)} | ${median(r.p99)} | ${r.errors} |`);
    const report = [
      '# Behind PgBouncer (npm run bench:pooler)',
      '',
      `${new Date().toISOString()}, ${os.cpus().length} cores, ${pgbouncerVersion()} in transaction mode; the 100-session Dashboard as an admin,`,
      `${CONNECTIONS} autocannon connections, ${DURATION} s per row and round, ${ROUNDS} rounds taking turns (medians).`,
      '',
      '| setup | req/s | p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|',
      ...table,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS-pooler.md'), report);
    console.log(report);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await bouncer?.stop();
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForAnswer(url: string, headers: Record<string, string>, body: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const response = await fetch(url, { method: 'POST', headers, body }).catch(() => undefined);
    if (response?.ok) {
      await response.arrayBuffer();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer from ${url}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
