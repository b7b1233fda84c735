/**
 * `hub serve --workers 2` (the built server) on its own embedded PostgreSQL: the workers share one
 * port, /metrics sums them, a killed worker is replaced, SIGTERM drains every worker and then the
 * primary process stops the embedded database it owns. Runs in `npm run test:reliability`.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { startEmbeddedPostgres } from '../../../src/db/embedded';
import { ChildServer, livePostmaster, sleep, spawnHub, startChildServer, tempDir } from '../../support/child-server';

let dir: string;
let child: ChildServer | undefined;

beforeAll(() => {
  dir = tempDir('hub-scale-cluster-');
});
afterAll(async () => {
  if (child?.alive()) child.signal('SIGKILL');
  for (const pid of workerPids(child?.pid ?? -1)) process.kill(pid, 'SIGKILL');
  if (livePostmaster(path.join(dir, 'pg'))) await (await startEmbeddedPostgres(dir)).stop().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The live node processes whose parent is `parent` (the cluster's workers). */
function workerPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One POST over a new connection (no keep-alive): a pooled connection to a worker killed on
 * purpose would be reset, which says nothing about whether the cluster still answers. */
function ask(url: string, token: string, query: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query });
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error(`no answer within 10 s from ${url}`)));
    request.on('error', reject);
    request.end(body);
  });
}

test('N workers on one port: /metrics sums them, a killed worker is restarted, SIGTERM drains all and stops the database', async () => {
  child = await startChildServer({ env: { HUB_DATA_DIR: dir, HUB_LOG_LEVEL: 'info' }, args: ['--workers', '2'], startTimeoutMs: 150_000 });
  const token = await until('the admin token', () => /Admin token[^\n]*\n\s*(eyJ[\w-]+\.[\w-]+\.[\w-]+)/.exec(child!.output())?.[1]);
  const postmaster = livePostmaster(path.join(dir, 'pg'));
  expect(postmaster).toBeDefined();
  const first = await until('two workers', () => {
    const pids = workerPids(child!.pid);
    return pids.length === 2 && pids;
  });

  // Twenty requests over new connections: the workers share them; /metrics counts all twenty.
  for (let i = 0; i < 20; i += 1) {
    const result = await ask(child.graphqlUrl, token, 'query ClusterCounted { me { id role } }');
    expect(result.status).toBe(200);
    expect(result.body.data.me.role).toBe('ADMIN');
  }
  const metrics = await (await fetch(`${child.baseUrl}/metrics`)).text();
  expect(metrics).toMatch(/hub_graphql_request_duration_seconds_count\{operation="ClusterCounted"\} 20\b/);
  expect(metrics).toMatch(/hub_db_pool_connections\{pool="primary",state="total"\} \d+/);

  // A crash: the primary replaces the worker, and the API keeps answering meanwhile.
  // Connections the primary handed to the worker before it learned of the death die with it;
  // once it knows, the surviving worker takes every new connection while the replacement starts.
  process.kill(first[0], 'SIGKILL');
  await until('the primary to notice the crash', () => /worker exited; restarting it/.test(child!.output()));
  expect((await ask(child.graphqlUrl, token, '{ me { id } }')).status).toBe(200);
  const replaced = await until('a replacement worker', () => {
    const pids = workerPids(child!.pid);
    return pids.length === 2 && !pids.includes(first[0]) && pids;
  });
  expect(replaced).toContain(first[1]);
  for (let i = 0; i < 6; i += 1) expect((await ask(child.graphqlUrl, token, '{ me { id } }')).status).toBe(200);
  expect(child.output()).toMatch(/worker exited; restarting it/);

  // SIGTERM: every worker drains and exits, then the primary stops the embedded PostgreSQL.
  const exit = await child.stop(60_000);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(workerPids(child.pid)).toEqual([]);
  for (const pid of replaced) expect(() => process.kill(pid, 0)).toThrow();
  expect(livePostmaster(path.join(dir, 'pg'))).toBeUndefined();
});

test('a worker that crashes at once is restarted with a growing delay, not in a spin', async () => {
  // A port taken by another process: every worker fails to listen and exits at start.
  const blocker = await new Promise<net.Server>((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  const port = (blocker.address() as net.AddressInfo).port;
  // Never serves, so not startChildServer: watched by its output.
  const hub = spawnHub(['serve', '--workers', '2', '--no-migrate'], {
    env: { HUB_DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', HUB_LOG_LEVEL: 'info' },
  });
  try {
    const restarts = () =>
      hub
        .output()
        .split('\n')
        .filter((line) => line.includes('"restartInMs"'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as { slot: number; upMs: number; restartInMs: number }];
          } catch {
            return []; // the line still being written
          }
        });
    const bySlot = (slot: number) => restarts().filter((r) => r.slot === slot).map((r) => r.restartInMs);
    await until('three restarts of each worker', () => bySlot(0).length >= 3 && bySlot(1).length >= 3, 120_000);
    // Each slot's streak of workers dying young doubles its wait: 100, 200, 400 ms… (capped at 10 s).
    for (const slot of [0, 1]) {
      const delays = bySlot(slot);
      expect(delays.slice(0, 3)).toEqual([100, 200, 400]);
      for (let i = 1; i < delays.length; i += 1) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    }
    expect(restarts().every((r) => r.upMs < 30_000)).toBe(true);
    expect(hub.output()).toMatch(/EADDRINUSE/);
  } finally {
    await hub.stop();
    blocker.close();
  }
}, 180_000);
