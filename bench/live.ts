/**
 * `npm run bench:live`: live updates under load. Two built server processes on one database;
 * 1,000 graphql-ws connections (500 on each), each holding one `messageAdded` subscription: 100
 * sessions of 10 members, each followed by 5 connections of its owner and 5 of admins (20 admin
 * users); meanwhile 100 `postMessage`/s through the two processes' HTTP APIs, alternately.
 * Reports delivered vs expected (every message to each of its 10 subscribers, none twice, in
 * order), p50/p99 delivery latency (the message's `createdAt`, stamped in its INSERT under the
 * session's lock, to its receipt), SQL statements and events per event batch (the servers' own histograms) and RSS per
 * 1,000 connections. Writes bench/RESULTS-live.md. Every process it starts, it stops.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClient, Client as WsClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';
import { createDataSource } from '../ormconfig';
import { signToken } from '../src/auth/tokens';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../src/db/embedded';
import { freePort } from './ports';

const ROOT = path.join(__dirname, '..', '..');
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const RATE = 100; // postMessage per second
const SESSIONS = 100;
const PER_SESSION = 10; // 5 owner connections + 5 admin connections
const MEMBERS = 10;
const ADMINS = 20;

const MESSAGE_ADDED = 'subscription ($id: ID!) { messageAdded(sessionId: $id) { cursor node { id content createdAt session { id messageCount } } } }';
const POST = 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh scratch database for this run, on DATABASE_URL's server or the embedded one under .bench-live. */
async function openDatabase(): Promise<{ url: string; embedded?: EmbeddedPostgres; drop(): Promise<void> }> {
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(path.join(ROOT, '.bench-live'));
  const base = new URL(process.env.DATABASE_URL ?? embedded!.url);
  const adminUrl = Object.assign(new URL(base), { pathname: '/postgres' }).toString();
  const name = `hub_bench_live_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: Object.assign(new URL(base), { pathname: `/${name}` }).toString(),
    embedded,
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

const METRICS_TOKEN = 'bench-live-metrics-token-0123456789abcdef';

async function startServer(url: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=64', path.join(ROOT, 'bin', 'hub.js'), 'serve', '--no-migrate'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', HUB_JWT_SECRET: SECRET, HUB_LOG_LEVEL: 'warn', HUB_METRICS_TOKEN: METRICS_TOKEN },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i += 1) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { child, base };
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('a server did not become ready');
}

/** Sums a series (all label sets) in a process's /metrics. */
async function metric(base: string, name: string): Promise<number> {
  // In production /metrics answers only with the metrics token (issue #12).
  const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!response.ok) throw new Error(`${base}/metrics answered ${response.status}`);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const db = await openDatabase();
  const servers: ChildProcess[] = [];
  const clients: WsClient[] = [];
  try {
    const ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    const members: { id: string }[] = await ds.query(
      `INSERT INTO users (email, display_name, role) SELECT 'member' || i || '@bench.hub', 'Member ' || i, 'MEMBER' FROM generate_series(1, ${MEMBERS}) i RETURNING id`,
    );
    const admins: { id: string }[] = await ds.query(
      `INSERT INTO users (email, display_name, role) SELECT 'admin' || i || '@bench.hub', 'Admin ' || i, 'ADMIN' FROM generate_series(1, ${ADMINS}) i RETURNING id`,
    );
    const sessions: { id: string; user_id: string }[] = await ds.query(
      `INSERT INTO sessions (user_id, title) SELECT ($1::uuid[])[1 + (i % ${MEMBERS})], 'Bench ' || i FROM generate_series(0, ${SESSIONS - 1}) i RETURNING id, user_id`,
      [members.map((m) => m.id)],
    );
    await ds.destroy();

    const [a, b] = await Promise.all([startServer(db.url), startServer(db.url)]);
    servers.push(a.child, b.child);
    const processes = [a, b];
    await sleep(1000);
    const rssBefore = processes.map((p) => rssMb(p.child.pid!));

    // 1,000 connections, one subscription each.
    const token = (id: string) => signToken(SECRET, id, 3600);
    const received = new Map<string, { id: string; createdAt: string; at: number }[]>();
    const subscriptions: { sessionId: string; key: string }[] = [];
    let errors = 0;
    // Connections open at 200/s, as clients ramp up, not all in one instant.
    for (const [s, session] of sessions.entries()) {
      await sleep(50);
      for (let j = 0; j < PER_SESSION; j += 1) {
        const viewer = j < PER_SESSION / 2 ? session.user_id : admins[(s * PER_SESSION + j) % ADMINS].id;
        const index = subscriptions.length;
        const server = processes[index % 2];
        const client = createClient({
          url: `${server.base.replace(/^http/, 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          lazy: true,
          retryAttempts: 0,
          connectionParams: { authorization: `Bearer ${token(viewer)}` },
        });
        clients.push(client);
        const key = `${index}`;
        received.set(key, []);
        subscriptions.push({ sessionId: session.id, key });
        client.subscribe<any>({ query: MESSAGE_ADDED, variables: { id: session.id } }, {
          next: (value) => {
            if (value.errors) errors += 1;
            const node = value.data?.messageAdded?.node;
            if (node) received.get(key)!.push({ id: node.id, createdAt: node.createdAt, at: Date.now() });
          },
          error: () => (errors += 1),
          complete: () => undefined,
        });
      }
    }
    const total = subscriptions.length;
    for (let i = 0; i < 600; i += 1) {
      const counts = await Promise.all(processes.map((p) => metric(p.base, 'hub_live_subscriptions')));
      if (counts[0] + counts[1] >= total) break;
      await sleep(100);
    }
    await sleep(1000);
    const rssAfter = processes.map((p) => rssMb(p.child.pid!));
    const statementsBefore = await Promise.all(processes.map((p) => metric(p.base, 'hub_live_batch_sql_statements_sum')));
    const batchesBefore = await Promise.all(processes.map((p) => metric(p.base, 'hub_live_batch_sql_statements_count')));
    const eventsBefore = await Promise.all(processes.map((p) => metric(p.base, 'hub_live_events_total')));

    // 100 postMessage/s for DURATION_S seconds, round robin over sessions and processes.
    const posted = new Map<string, string>(); // message id -> session id
    let postErrors = 0;
    const inflight: Promise<void>[] = [];
    const count = RATE * DURATION_S;
    const started = Date.now();
    for (let i = 0; i < count; i += 1) {
      const due = started + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const session = sessions[i % SESSIONS];
      const server = processes[i % 2];
      inflight.push(
        fetch(`${server.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token(session.user_id)}` },
          body: JSON.stringify({ query: POST, variables: { input: { sessionId: session.id, role: 'USER', content: `bench ${i}` } } }),
        })
          .then((r) => r.json() as Promise<any>)
          .then((body) => {
            if (body.data?.postMessage?.id) posted.set(body.data.postMessage.id, session.id);
            else postErrors += 1;
          })
          .catch(() => {
            postErrors += 1;
          }),
      );
    }
    await Promise.all(inflight);
    const achievedRate = count / ((Date.now() - started) / 1000);
    // Let deliveries drain.
    const expectedPer = new Map<string, string[]>();
    const bySession = new Map<string, string[]>();
    for (const [id, sessionId] of posted) (bySession.get(sessionId) ?? bySession.set(sessionId, []).get(sessionId)!).push(id);
    const expected = [...posted.values()].length * PER_SESSION;
    for (let i = 0; i < 300; i += 1) {
      const delivered = [...received.values()].reduce((n, list) => n + list.length, 0);
      if (delivered >= expected) break;
      await sleep(100);
    }
    await sleep(500);

    // Check: every subscriber got exactly its session's messages, each once, in createdAt order.
    const stored = new Client({ connectionString: db.url });
    await stored.connect();
    const rows: { id: string; session_id: string }[] = (
      await stored.query('SELECT id, session_id FROM messages ORDER BY created_at, id')
    ).rows;
    await stored.end();
    for (const row of rows) (expectedPer.get(row.session_id) ?? expectedPer.set(row.session_id, []).get(row.session_id)!).push(row.id);
    let delivered = 0;
    let duplicates = 0;
    let missing = 0;
    let exactOrder = 0;
    const latencies: number[] = [];
    for (const { sessionId, key } of subscriptions) {
      const got = received.get(key)!;
      delivered += got.length;
      const ids = got.map((g) => g.id);
      duplicates += ids.length - new Set(ids).size;
      const want = expectedPer.get(sessionId) ?? [];
      missing += want.filter((id) => !ids.includes(id)).length;
      if (JSON.stringify(ids) === JSON.stringify(want)) exactOrder += 1;
      for (const g of got) latencies.push(g.at - Date.parse(g.createdAt));
    }
    const statements = (await Promise.all(processes.map((p) => metric(p.base, 'hub_live_batch_sql_statements_sum')))).map((v, i) => v - statementsBefore[i]);
    const batches = (await Promise.all(processes.map((p) => metric(p.base, 'hub_live_batch_sql_statements_count')))).map((v, i) => v - batchesBefore[i]);
    const events = (await Promise.all(processes.map((p) => metric(p.base, 'hub_live_events_total')))).map((v, i) => v - eventsBefore[i]);
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    const rssDelta = sum(rssAfter) - sum(rssBefore);

    const figures = {
      connections: total,
      postRate: Math.round(achievedRate),
      posted: posted.size,
      postErrors,
      expected,
      delivered,
      duplicates,
      missing,
      subscribersInExactOrder: `${exactOrder}/${total}`,
      subscriptionErrors: errors,
      p50: Math.round(percentile(latencies, 50)),
      p99: Math.round(percentile(latencies, 99)),
      batches: sum(batches),
      eventsPerBatch: Math.round((sum(events) / Math.max(1, sum(batches))) * 10) / 10,
      statementsPerBatch: Math.round((sum(statements) / Math.max(1, sum(batches))) * 10) / 10,
      rssBeforeMb: rssBefore.map((v) => Math.round(v)),
      rssAfterMb: rssAfter.map((v) => Math.round(v)),
      rssPer1000Mb: Math.round((rssDelta / total) * 1000 * 10) / 10,
    };
    console.log(JSON.stringify(figures, null, 2));
    writeFileSync(path.join(ROOT, 'bench', 'RESULTS-live.md'), markdown(figures));
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const child of servers) child.kill('SIGTERM');
    await sleep(1500);
    for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
    await db.drop().catch(() => undefined);
    await db.embedded?.stop();
  }
}

function markdown(f: Record<string, any>): string {
  return `# Live updates bench (\`npm run bench:live\`)

Two built server processes (production mode) on one PostgreSQL; ${f.connections} graphql-ws
connections, half on each, each holding one \`messageAdded\` subscription (${SESSIONS} sessions of
${MEMBERS} members; each session followed by 5 connections of its owner and 5 of admins, ${ADMINS}
admin users); ${RATE} \`postMessage\`/s for ${DURATION_S} s through the two processes' HTTP APIs,
alternately. Latency: from the message's \`createdAt\` (stamped in its INSERT) to its receipt by
the subscriber, everything on one 2-core machine (bench client, both servers, PostgreSQL).

| row | figure |
|---|---|
| subscribers (connections) | ${f.connections} |
| postMessage/s achieved | ${f.postRate} (${f.posted} posted, ${f.postErrors} failed) |
| delivered / expected | ${f.delivered} / ${f.expected} (${f.duplicates} duplicates, ${f.missing} missing) |
| subscribers with exactly their session's messages, in order | ${f.subscribersInExactOrder} |
| delivery latency p50 / p99 | ${f.p50} ms / ${f.p99} ms |
| event batches (both processes) | ${f.batches} (${f.eventsPerBatch} events per batch) |
| SQL statements per event batch | ${f.statementsPerBatch} |
| RSS per 1,000 connections | ${f.rssPer1000Mb} MB (processes: ${f.rssBeforeMb.join(' + ')} MB before, ${f.rssAfterMb.join(' + ')} MB with the connections) |

SQL per batch stays flat as subscribers grow: each batch reads the posted messages once per viewer
group (one \`messageById\` statement, which primes the session), and the document's other fields
(\`session { messageCount }\`) once more per group; admins are one group. Run on ${new Date().toISOString().slice(0, 10)}.
`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
