/**
 * Graceful shutdown: `hub serve` on its own embedded PostgreSQL (no DATABASE_URL) gets SIGTERM
 * in the middle of a load. In-flight requests finish, new connections are refused, the pool and
 * the embedded cluster are closed, the process exits 0, and nothing acknowledged is lost.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createDataSource } from '../../ormconfig';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded';
import { findViolations } from '../invariants';
import { livePostmaster, sleep, startChildServer, ChildServer, tempDir } from '../support/child-server';
import { percentile, tally, writeFigures } from './support/figures';
import { checkAcks } from './support/fixtures';
import { gql } from './support/http';
import { InFlight, outcome, runLoad } from './support/load';

const CONNECTIONS = 20;
const LOAD_BEFORE_SIGTERM_MS = 5_000;
/**
 * A request counts as in flight at SIGTERM when its client started it this long before the
 * signal: fetch() writes a request a little after it is called, and a request written after the
 * signal may meet its keep-alive connection closing (HTTP/1.1's race, which clients retry).
 * Requests started within this window are held to the rule for those sent afterwards.
 */
const CLIENT_WRITE_MS = 50;

let dir: string;
let child: ChildServer | undefined;
let pg: EmbeddedPostgres | undefined;

beforeAll(() => {
  dir = tempDir('hub-rel-shutdown-');
});
afterAll(async () => {
  if (child?.alive()) child.signal('SIGKILL');
  await pg?.stop().catch(() => undefined);
  // A cluster left behind by a failed run: stop it before removing its directory.
  if (livePostmaster(path.join(dir, 'pg'))) await (await startEmbeddedPostgres(dir)).stop().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One request on a new TCP connection (no keep-alive pool): what a new client would get. */
function freshConnection(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'GET', agent: false, timeout: 5_000, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(`network:${error.code ?? error.message}`));
    req.end();
  });
}

test('SIGTERM during load: in-flight requests finish, new ones are refused, pool and embedded DB closed, exit 0, nothing lost', async () => {
  child = await startChildServer({ env: { HUB_DATA_DIR: dir, HUB_LOG_LEVEL: 'info' }, startTimeoutMs: 150_000 });
  // `hub serve` prints the admin token just after its URL.
  let adminToken: string | undefined;
  for (let i = 0; i < 100 && !adminToken; i += 1) {
    adminToken = /Admin token[^\n]*\n\s*(eyJ[\w-]+\.[\w-]+\.[\w-]+)/.exec(child.output())?.[1];
    if (!adminToken) await sleep(50);
  }
  expect(adminToken).toMatch(/^eyJ/);
  const pgData = path.join(dir, 'pg');
  const postmasterWhileServing = livePostmaster(pgData);
  expect(postmasterWhileServing).toBeDefined();

  const seeded = await gql(child.graphqlUrl, adminToken, '{ sessions(first: 40) { nodes { id } } skills(first: 20) { nodes { id } } }');
  expect(seeded.codes).toEqual([]);
  const target = {
    graphqlUrl: child.graphqlUrl,
    adminToken: adminToken!,
    members: [{ token: adminToken!, sessionIds: seeded.body.data.sessions.nodes.map((n: any) => n.id) }],
    skillIds: seeded.body.data.skills.nodes.map((n: any) => n.id),
  };
  expect(target.members[0].sessionIds.length).toBeGreaterThan(10);

  let stop = false;
  const out = new InFlight();
  const loadRun = runLoad({
    inFlight: out,
    target,
    connections: CONNECTIONS,
    durationMs: 60_000,
    seed: 4,
    tag: 'shutdown',
    timeoutMs: 30_000,
    shouldStop: () => stop,
    mix: { users: 0, postMessage: 40 },
  });
  await sleep(LOAD_BEFORE_SIGTERM_MS);
  // The signal goes when a request has been out longer than CLIENT_WRITE_MS (with a margin), so
  // some request is in flight however fast the server answers (a faster server once left none).
  const signalBy = Date.now() + 10_000;
  while ((out.oldest() ?? Infinity) > Date.now() - CLIENT_WRITE_MS - 20 && Date.now() < signalBy) await sleep(1);
  const sigtermAt = Date.now();
  child.signal('SIGTERM');
  await sleep(150);
  const newConnection = await freshConnection(`${child.baseUrl}/healthz`);
  let exitTimer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([child.exited, new Promise<undefined>((resolve) => (exitTimer = setTimeout(() => resolve(undefined), 60_000)))]);
  clearTimeout(exitTimer);
  const exitedAt = Date.now();
  stop = true;
  const load = await loadRun;

  const postmasterAfterExit = livePostmaster(pgData);
  const pidFileLeft = fs.existsSync(path.join(pgData, 'postmaster.pid'));
  const pgLog = fs.readFileSync(path.join(pgData, 'postgres.log'), 'utf8');
  const abruptDisconnects = pgLog.split('\n').filter((l) => /unexpected EOF on client connection|could not receive data from client|connection reset by peer/i.test(l));
  const serverLog = child.output();

  // What the data directory holds after the shutdown, seen through a second start of its cluster.
  pg = await startEmbeddedPostgres(dir);
  const ds = createDataSource({ url: pg.url, poolSize: 1 });
  await ds.initialize();
  const check = await checkAcks((sql, params) => ds.query(sql, params), load.acks, 'shutdown');
  const violations = await findViolations(ds);
  await ds.destroy();
  await pg.stop();
  pg = undefined;

  const before = load.samples.filter((x) => x.endedAt <= sigtermAt);
  const inFlight = load.samples.filter((x) => x.startedAt < sigtermAt - CLIENT_WRITE_MS && x.endedAt > sigtermAt);
  const racing = load.samples.filter((x) => x.startedAt >= sigtermAt - CLIENT_WRITE_MS && x.startedAt < sigtermAt);
  const afterwards = load.samples.filter((x) => x.startedAt >= sigtermAt);
  const drainMs = inFlight.map((x) => x.endedAt - sigtermAt).sort((a, b) => a - b);
  const figures = {
    connections: CONNECTIONS,
    loadBeforeSigtermMs: LOAD_BEFORE_SIGTERM_MS,
    requests: load.samples.length,
    beforeSigterm: tally(before.map(outcome)),
    inFlightAtSigterm: { count: inFlight.length, outcomes: tally(inFlight.map(outcome)), finishedWithinMs: drainMs[drainMs.length - 1] ?? 0, p50Ms: percentile(drainMs, 50) },
    startedWithinWriteWindow: tally(racing.map(outcome)),
    sentAfterSigterm: tally(afterwards.map(outcome)),
    newConnectionAfterSigterm: newConnection,
    exit: exit ?? 'did not exit within 60 s',
    sigtermToExitMs: exitedAt - sigtermAt,
    postmasterWhileServing,
    postmasterAfterExit: postmasterAfterExit ?? null,
    postmasterPidFileLeft: pidFileLeft,
    abruptClientDisconnectsInPostgresLog: abruptDisconnects.length,
    serverLogged: {
      shuttingDown: serverLog.includes('shutting down: finishing in-flight requests'),
      stopped: /"msg":"stopped"/.test(serverLog),
    },
    writes: { ...check, missing: check.missing.length },
  };
  writeFigures('shutdown', figures);

  expect(exit).toEqual({ code: 0, signal: null });
  expect(figures.sigtermToExitMs).toBeLessThan(30_000);
  // In-flight requests finished with their answers.
  expect(inFlight.length).toBeGreaterThan(0);
  expect(tally(inFlight.map(outcome))).toEqual({ ok: inFlight.length });
  expect(tally(before.map(outcome))).toEqual({ ok: before.length });
  // After SIGTERM, a new connection is refused; requests sent afterwards either still ride a
  // connection that was draining (and are answered) or are refused; none gets a server error.
  expect(newConnection).toBe('network:ECONNREFUSED');
  expect([...racing, ...afterwards].filter((x) => x.status >= 500 || (x.status > 0 && x.codes.length > 0))).toEqual([]);
  // The pool was closed (clean disconnects), then the embedded cluster stopped.
  expect(figures.serverLogged).toEqual({ shuttingDown: true, stopped: true });
  expect(abruptDisconnects).toEqual([]);
  expect(postmasterAfterExit).toBeUndefined();
  // Nothing acknowledged is lost.
  expect(check.missing).toEqual([]);
  expect(check.acknowledged.messages).toBeGreaterThan(20);
  expect(violations).toEqual({});
});
