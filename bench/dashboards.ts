/**
 * Issue 27's bench rows, at every scale run (the standard set and ten times it, 4M messages):
 * `searchMessages` for a common and a rare word, beside the same search written the way it is
 * without a text index (`content ILIKE '%word%'`, newest first, with its count: what PostGraphile's
 * connection-filter `includesInsensitive` compiles to), served by a one-statement floor in its own
 * process; and `activity` (an hour by minute, a week by hour) and `nodeSyncSummary` as an admin.
 * PostGraphile's Amber preset has no aggregates (that needs @graphile/pg-aggregates, not installed
 * here), so the aggregates have no PostGraphile row. Run by `bench/run.ts`; never in tests.
 */
import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type autocannon from 'autocannon';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { freePort } from '../src/common/ports';

/** Seeded contents hold only the seed's fixed lines: "draft" is in many of them, this word in none. */
export const COMMON_WORD = 'draft';
export const RARE_WORD = 'quokka';
const RARE_MESSAGES = 20;

/** `GET /ilike?q=word`: the page of 20 newest live messages containing the word, with the total. */
export const ILIKE_SEARCH_SQL = `
SELECT json_build_object('data', json_build_object('searchMessages', json_build_object(
  'totalCount', (SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id
                 WHERE m.content ILIKE '%' || $1 || '%' AND m.deleted_at IS NULL AND s.deleted_at IS NULL),
  'nodes', (SELECT coalesce(json_agg(json_build_object('id', p.id, 'content', p.content, 'sessionId', p.session_id)), '[]') FROM (
    SELECT m.id, m.content, m.session_id FROM messages m JOIN sessions s ON s.id = m.session_id
    WHERE m.content ILIKE '%' || $1 || '%' AND m.deleted_at IS NULL AND s.deleted_at IS NULL
    ORDER BY m.created_at DESC, m.id DESC LIMIT 20) p))))::text AS body`;

/** A rare word in a few messages, written once per bench database. */
export async function prepareDashboardRows(ds: DataSource): Promise<void> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM messages WHERE content LIKE $1`, [`%${RARE_WORD}%`]);
  if (n >= RARE_MESSAGES) return;
  await ds.query(
    `INSERT INTO messages (session_id, role, content, created_at)
     SELECT s.id, 'USER', 'A ' || $1 || ' was seen near the bench ' || i, s.created_at + interval '1 minute'
     FROM (SELECT id, created_at FROM sessions WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT $2) s, generate_series(1, 1) i`,
    [RARE_WORD, RARE_MESSAGES],
  );
}

function startIlikeFloor(databaseUrl: string, port: number, poolSize: number): Promise<http.Server> {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  const server = http.createServer(async (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? '';
    try {
      const { rows } = await pool.query({ name: 'ilike', text: ILIKE_SEARCH_SQL, values: [q] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(rows[0].body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  server.on('close', () => void pool.end());
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const SEARCH = `query Search($q: String!) { searchMessages(query: $q, first: 20) { totalCount edges { rank highlight node { id content session { id } } } } }`;
const ACTIVITY = `query Activity($from: DateTime!, $to: DateTime!, $bucket: TimeBucket!) {
  activity(from: $from, to: $to, bucket: $bucket) { start sessionsCreated messagesPosted messagesWithAudio activeUsers } }`;
const SYNC = `{ nodeSyncSummary { nodeId counts { status count } oldestPendingSince lastReportAt } }`;

export interface DashboardBench<Row> {
  scale: number;
  databaseUrl: string;
  poolSize: number;
  /** Our server's GraphQL URL and the request options of a query to it. */
  post: (query: string, variables: object) => autocannon.Options;
  /** Statements one request costs on our server (`x-sql-statements`). */
  sqlOf: (query: string, variables: object) => Promise<number>;
  /** Measures our server (pid known to the caller) or any URL's process. */
  loadOurs: (name: string, options: autocannon.Options, sql: number | string) => Promise<Row>;
  loadOther: (name: string, pid: number, options: autocannon.Options, sql: number | string) => Promise<Row>;
}

/** The rows above, our server already running; the ILIKE floor is started and stopped here. */
export async function dashboardRows<Row>(bench: DashboardBench<Row>): Promise<Row[]> {
  const rows: Row[] = [];
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [__filename], {
    env: { ...process.env, DATABASE_URL: bench.databaseUrl, PORT: String(port), POOL_SIZE: String(bench.poolSize) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const floor = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !(await fetch(`${floor}/ilike?q=x`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const x = `x${bench.scale}`;
    for (const word of [COMMON_WORD, RARE_WORD]) {
      const which = word === COMMON_WORD ? 'common' : 'rare';
      const sql = await bench.sqlOf(SEARCH, { q: word });
      rows.push(await bench.loadOurs(`${x} searchMessages, ${which} word "${word}" (first 20, count, highlights)`, bench.post(SEARCH, { q: word }), sql));
      rows.push(await bench.loadOther(`${x} ILIKE '%${word}%' floor (newest 20, count)`, child.pid!, { url: `${floor}/ilike?q=${word}` }, 1));
    }
    const now = Date.now();
    const hour = { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString(), bucket: 'MINUTE' };
    const week = { from: new Date(now - 7 * 86_400_000).toISOString(), to: new Date(now).toISOString(), bucket: 'HOUR' };
    rows.push(await bench.loadOurs(`${x} activity, last hour by minute`, bench.post(ACTIVITY, hour), await bench.sqlOf(ACTIVITY, hour)));
    rows.push(await bench.loadOurs(`${x} activity, last week by hour`, bench.post(ACTIVITY, week), await bench.sqlOf(ACTIVITY, week)));
    rows.push(await bench.loadOurs(`${x} nodeSyncSummary`, bench.post(SYNC, {}), await bench.sqlOf(SYNC, {})));
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
  return rows;
}

if (require.main === module) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  void startIlikeFloor(url, Number(process.env.PORT), Number(process.env.POOL_SIZE ?? 10));
}

