/**
 * Database restart under load: PostgreSQL (an embedded cluster this test owns) is stopped in
 * the middle of a mixed load and started again. Requests must fail fast with a clear error (no
 * hang), /readyz must say not ready, and the same server process must recover on its own, with
 * no acknowledged write lost.
 */
import fs from 'node:fs';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded';
import { findViolations } from '../invariants';
import { sleep, startChildServer, ChildServer, tempDir } from '../support/child-server';
import { percentile, tally, writeFigures } from './support/figures';
import { checkAcks, RELIABILITY_SECRET, seedLoadTarget } from './support/fixtures';
import { gql, request, succeeded } from './support/http';
import { outcome, runLoad, Sample } from './support/load';

const CONNECTIONS = 12;
const BEFORE_MS = 6_000;
const DOWN_MS = 6_000;
const AFTER_MS = 8_000;
/** No request may take longer than this, even while the database is away. */
const MAX_LATENCY_MS = 6_000;
const UNAVAILABLE = 'The database is unavailable; try again shortly';

let dir: string;
let pg: EmbeddedPostgres | undefined;
let child: ChildServer | undefined;
const serverDir = tempDir('hub-rel-restart-srv-');

beforeAll(async () => {
  dir = tempDir('hub-rel-restart-');
  pg = await startEmbeddedPostgres(dir);
});
afterAll(async () => {
  await child?.stop();
  await pg?.stop().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(serverDir, { recursive: true, force: true });
});

async function withDataSource<T>(url: string, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = createDataSource({ url, poolSize: 2 });
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

test('restarting PostgreSQL during load: fast clear failures, /readyz 503, recovery without a process restart, nothing lost', async () => {
  const url = pg!.url;
  const target0 = await withDataSource(url, async (ds) => {
    await ds.runMigrations({ transaction: 'each' });
    return seedLoadTarget(ds, 'pending', { members: 6, sessionsPerMember: 4, messagesPerSession: 2 });
  });
  child = await startChildServer({
    env: { DATABASE_URL: url, HUB_JWT_SECRET: RELIABILITY_SECRET, HUB_DATA_DIR: serverDir },
  });
  const pid = child.pid;
  const target = { ...target0, graphqlUrl: child.graphqlUrl };

  let stopLoad = false;
  const loadRun = runLoad({ target, connections: CONNECTIONS, durationMs: 120_000, seed: 3, tag: 'restart', timeoutMs: 30_000, shouldStop: () => stopLoad });

  await sleep(BEFORE_MS);
  const stopStartedAt = Date.now();
  await pg!.stop();
  pg = undefined;
  const downAt = Date.now();

  // While it is down: /readyz and a plain query, polled.
  const readyDuring: string[] = [];
  const probesDuring: string[] = [];
  while (Date.now() - downAt < DOWN_MS) {
    const [ready, probe] = await Promise.all([
      request(`${child.baseUrl}/readyz`, { timeoutMs: 10_000 }),
      gql(child.graphqlUrl, target.adminToken, '{ me { id } }', undefined, 10_000),
    ]);
    readyDuring.push(ready.network ? `network:${ready.network}` : String(ready.status));
    probesDuring.push(`${probe.status} ${outcome({ ...probe, op: 'probe' } as Sample)}`);
    await sleep(250);
  }

  const restartStartedAt = Date.now();
  pg = await startEmbeddedPostgres(dir);
  const backAt = Date.now();
  expect(pg.url).toBe(url); // same port and credentials
  // Recovery: DB back → first successful request (a probe every 50 ms; the load is running too).
  let recoveredAt: number | undefined;
  while (Date.now() - backAt < 30_000) {
    const probe = await gql(child.graphqlUrl, target.adminToken, '{ me { id } }', undefined, 10_000);
    if (succeeded(probe)) {
      recoveredAt = probe.endedAt;
      break;
    }
    await sleep(50);
  }
  const readyAfter = await request(`${child.baseUrl}/readyz`);
  await sleep(AFTER_MS);
  stopLoad = true;
  const load = await loadRun;
  const firstLoadSuccessAfterBack = load.samples
    .filter((x) => x.startedAt >= backAt && outcome(x) === 'ok')
    .reduce((min, x) => Math.min(min, x.endedAt), Infinity);

  const { check, violations } = await withDataSource(url, async (ds) => ({
    check: await checkAcks((sql, params) => ds.query(sql, params), load.acks, 'restart'),
    violations: await findViolations(ds),
  }));

  const before = load.samples.filter((x) => x.endedAt < stopStartedAt);
  const after = load.samples.filter((x) => recoveredAt !== undefined && x.startedAt > recoveredAt + 1_000);
  const during = load.samples.filter((x) => !before.includes(x) && !after.includes(x));
  const latencies = load.samples.map((x) => x.endedAt - x.startedAt).sort((a, b) => a - b);
  const duringLatencies = during.map((x) => x.endedAt - x.startedAt).sort((a, b) => a - b);
  const figures = {
    connections: CONNECTIONS,
    timeline: {
      loadBeforeStopMs: BEFORE_MS,
      stopTookMs: downAt - stopStartedAt,
      downMs: restartStartedAt - downAt,
      startTookMs: backAt - restartStartedAt,
      recoveryMs: recoveredAt === undefined ? null : recoveredAt - backAt,
      firstLoadSuccessAfterBackMs: Number.isFinite(firstLoadSuccessAfterBack) ? firstLoadSuccessAfterBack - backAt : null,
      loadAfterRecoveryMs: AFTER_MS,
    },
    requests: load.samples.length,
    byOutcome: {
      before: tally(before.map(outcome)),
      duringOutage: tally(during.map((x) => `${x.status} ${outcome(x)}${x.codes.length ? `: ${x.messages[0]}` : ''}`)),
      after: tally(after.map(outcome)),
    },
    latencyMs: {
      all: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] },
      duringOutage: { p50: percentile(duringLatencies, 50), p99: percentile(duringLatencies, 99), max: duringLatencies[duringLatencies.length - 1] ?? 0 },
    },
    readyzWhileDown: tally(readyDuring),
    probeWhileDown: tally(probesDuring),
    readyzAfterRecovery: readyAfter.status,
    samePid: child.pid === pid && child.alive(),
    serverLog: {
      unexpectedErrors: child.output().split('\n').filter((l) => l.includes('"unexpected error"')).length,
      unexpectedErrorSamples: child.output().split('\n').filter((l) => l.includes('"unexpected error"')).slice(0, 3).map((l) => l.slice(0, 1500)),
      unavailableDuringRequest: child.output().split('\n').filter((l) => l.includes('database unavailable during the request')).length,
    },
    writes: { ...check, missing: check.missing.length },
  };
  writeFigures('db-restart', figures);

  expect(child.alive()).toBe(true);
  expect(child.pid).toBe(pid);
  expect(recoveredAt).toBeDefined();
  expect(figures.timeline.recoveryMs!).toBeLessThan(10_000);
  // Fail fast, never hang: every request answered, and quickly.
  expect(load.samples.filter((x) => x.network)).toEqual([]);
  expect(latencies[latencies.length - 1]).toBeLessThan(MAX_LATENCY_MS);
  // Before the stop and after the recovery: everything succeeds.
  expect(tally(before.map(outcome))).toEqual({ ok: before.length });
  expect(tally(after.map(outcome))).toEqual({ ok: after.length });
  expect(after.length).toBeGreaterThan(50);
  // During the outage: successes, or the clear 503 "database unavailable" answer; nothing else.
  const unclear = during.filter((x) => outcome(x) !== 'ok' && !(x.status === 503 && x.codes.every((c) => c === 'INTERNAL_SERVER_ERROR') && x.messages.every((m) => m === UNAVAILABLE)));
  expect(tally(unclear.map((x) => `${x.op} ${x.status} ${outcome(x)}: ${x.messages[0]}`))).toEqual({});
  expect(readyDuring.length).toBeGreaterThan(3);
  expect(readyDuring.every((r) => r === '503')).toBe(true);
  expect(probesDuring.every((p) => p === '503 INTERNAL_SERVER_ERROR')).toBe(true);
  expect(readyAfter.status).toBe(200);
  // Nothing acknowledged is lost.
  expect(check.missing).toEqual([]);
  expect(check.acknowledged.messages).toBeGreaterThan(50);
  expect(violations).toEqual({});
});
