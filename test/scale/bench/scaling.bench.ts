/**
 * The scaling bench of docs/SCALING.md (run by hand, never in CI; needs `npm run build`):
 *   npm run build && npx jest --config jest.reliability.config.js --roots test/scale/bench --testMatch '**\/*.bench.ts'
 * A primary and a streaming standby (test/support/replication.ts), the standard seed on the
 * primary, then the 100-session Dashboard as an admin through the built server with 1 and 2
 * workers, with and without the standby as a read replica: autocannon, 10 connections, 10 s
 * each (BENCH_DURATION). Prints one line per row.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { print } from 'graphql';
import { DashboardDocument } from '../../../examples/dashboard-client/gql/graphql';
import { signToken } from '../../../src/auth/tokens';
import { SERVER_V8_FLAGS } from '../../../src/cli/v8-flags';
import { freePort, startReplicatedCluster } from '../../support/replication';

const ROOT = path.resolve(__dirname, '../../..');
const SECRET = 'bench-secret-that-is-long-enough-for-production';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);

function hub(env: Record<string, string>, args: string[], stdio: 'ignore' | 'inherit' = 'inherit'): ChildProcess {
  return spawn(process.execPath, [...SERVER_V8_FLAGS, path.join(ROOT, 'bin', 'hub.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, NODE_ENV: 'production', HUB_JWT_SECRET: SECRET, HUB_LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', stdio, 'inherit'],
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

test('throughput of the Dashboard with 1 and 2 workers, with and without a read replica', async () => {
  const cluster = await startReplicatedCluster();
  const children: ChildProcess[] = [];
  try {
    expect(await exited(hub({ DATABASE_URL: cluster.primary.url }, ['migrate']))).toBe(0);
    expect(await exited(hub({ DATABASE_URL: cluster.primary.url }, ['seed']))).toBe(0);
    await cluster.primary.query('VACUUM ANALYZE');
    await cluster.caughtUp(120_000);
    const [admin] = await cluster.primary.query<{ id: string }>(`SELECT id FROM users WHERE role = 'ADMIN' ORDER BY created_at LIMIT 1`);
    const token = signToken(SECRET, admin.id, 3600);
    const body = JSON.stringify({ query: print(DashboardDocument), variables: { first: 100 } });

    const rows: string[] = [];
    const setups: { name: string; workers: number; replica: boolean }[] = [
      { name: '1 worker, primary only', workers: 1, replica: false },
      { name: '2 workers, primary only', workers: 2, replica: false },
      { name: '1 worker, reads on the replica', workers: 1, replica: true },
      { name: '2 workers, reads on the replica', workers: 2, replica: true },
    ];
    for (const setup of setups) {
      const port = await freePort();
      const server = hub(
        {
          DATABASE_URL: cluster.primary.url,
          PORT: String(port),
          HUB_WORKERS: String(setup.workers),
          HUB_MAX_PAGE_SIZE: '500',
          HUB_MAX_QUERY_COST: '10000000',
          ...(setup.replica ? { HUB_READ_REPLICA_URLS: cluster.standby.url } : {}),
        },
        ['serve', '--no-migrate'],
        'ignore',
      );
      children.push(server);
      const url = `http://127.0.0.1:${port}/graphql`;
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      let pool = '';
      for (let i = 0; i < 600; i += 1) {
        const response = await fetch(url, { method: 'POST', headers, body }).catch(() => undefined);
        if (response?.ok) {
          pool = response.headers.get('x-hub-read-pool') ?? 'primary';
          await response.arrayBuffer();
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      // Warm every worker's compiled query and pools before measuring.
      await autocannon({ url, method: 'POST', headers, body, connections: 10, duration: 3 });
      const result = await autocannon({ url, method: 'POST', headers, body, connections: 10, duration: DURATION });
      const row = `${setup.name}: ${result.requests.average.toFixed(1)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.non2xx}, reads from ${pool}`;
      rows.push(row);
      console.log(row);
      server.kill('SIGTERM');
      await exited(server);
    }
    console.log(rows.join('\n'));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await cluster.close();
  }
}, 900_000);
