import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { parseLsn } from '../../src/db/replicas';
import { factories } from '../factories';
import { ReplicatedCluster, startReplicatedCluster } from '../support/replication';
import { eventually, ReplicatedServer, startReplicatedServer } from './support';

/**
 * Read replicas on real streaming replication: a primary and a hot standby started by the test
 * (test/support/replication.ts), the real server in front with the standby as its replica.
 */
let cluster: ReplicatedCluster;
let hub: ReplicatedServer;
let primary: DataSource;

const SESSION = `query One($id: ID!) { session(id: $id) { id title } }`;
const MINE = `query Mine { sessions(first: 100) { totalCount nodes { id title } } }`;
const CREATE = `mutation Create($title: String!) { createSession(input: { title: $title }) { id title } }`;

/** Index and sequential scans of `sessions` counted on the standby itself. */
async function standbySessionScans(): Promise<number> {
  const [row] = await cluster.standby.query(
    `SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'sessions'`,
  );
  return Number(row.n);
}

beforeAll(async () => {
  cluster = await startReplicatedCluster();
  primary = createDataSource({ url: cluster.primary.url, poolSize: 3 });
  await primary.initialize();
  await primary.runMigrations({ transaction: 'each' });
  await cluster.caughtUp();
  hub = await startReplicatedServer(cluster.primary.url, [cluster.standby.url], {
    HUB_REPLICA_WAIT_MS: '300',
    HUB_REPLICA_MAX_LAG_MS: '400',
  });
}, 120_000);

afterAll(async () => {
  await hub?.close();
  await primary?.destroy();
  await cluster?.close();
}, 120_000);

describe('read replicas', () => {
  it('serves queries from the standby (counted on the standby) and mutations with their payloads from the primary', async () => {
    const f = factories(primary);
    const owner = await f.user();
    await Promise.all([f.session(owner), f.session(owner)]);
    await cluster.caughtUp();
    const before = await standbySessionScans();
    for (let i = 0; i < 5; i += 1) {
      const read = await hub.gql(owner, MINE);
      expect(read.status).toBe(200);
      expect(read.body.data.sessions.totalCount).toBe(2);
      expect(read.headers.get('x-hub-read-pool')).toBe('replica-0');
    }
    // The standby's own statistics count the scans (they reach shared memory within a second or so).
    await eventually('the standby counts the reads', async () => (await standbySessionScans()) >= before + 5);

    // messageCount and skills are read by loaders after the write: from the primary.
    const write = await hub.gql(owner, `mutation { createSession(input: { title: "on the primary" }) { id messageCount skills { id } } }`);
    expect(write.body.errors).toBeUndefined();
    expect(write.body.data.createSession.messageCount).toBe(0);
    expect(write.headers.get('x-hub-read-pool')).toBe('primary');
    expect(parseLsn(write.headers.get('x-hub-lsn'))).toBeDefined();
  });

  it('never answers a writer with a read older than its write: 0 stale reads in 40 write-then-read rounds', async () => {
    const writer = await factories(primary).user();
    let stale = 0;
    const pools: Record<string, number> = {};
    for (let i = 0; i < 40; i += 1) {
      const write = await hub.gql(writer, CREATE, { title: `round ${i}` });
      const id = write.body.data.createSession.id;
      const read = await hub.gql(writer, SESSION, { id });
      if (read.body.data?.session?.id !== id) stale += 1;
      const pool = read.headers.get('x-hub-read-pool')!;
      pools[pool] = (pools[pool] ?? 0) + 1;
    }
    expect(stale).toBe(0);
    // Streaming on loopback catches up within the wait: most reads still use the standby.
    expect(pools['replica-0']).toBeGreaterThan(0);
  });

  it('waits for the replica, then reads the primary, while the standby has stopped replaying', async () => {
    const writer = await factories(primary).user();
    const other = await factories(primary).user();
    await cluster.standby.query('SELECT pg_wal_replay_pause()');
    try {
      const write = await hub.gql(writer, CREATE, { title: 'during the pause' });
      const id = write.body.data.createSession.id;
      const read = await hub.gql(writer, SESSION, { id });
      expect(read.body.data.session).toEqual({ id, title: 'during the pause' });
      expect(read.headers.get('x-hub-read-pool')).toBe('primary');
      // The same position echoed by a client that never wrote through this viewer.
      const echoed = await hub.gql(other, `{ sessions { totalCount } }`, {}, { 'x-hub-lsn': write.headers.get('x-hub-lsn')! });
      expect(echoed.headers.get('x-hub-read-pool')).toBe('primary');
    } finally {
      await cluster.standby.query('SELECT pg_wal_replay_resume()');
    }
    await cluster.caughtUp();
    await eventually('the replica back in rotation', () => hub.replicas.status()[0].state === 'up');
  });

  it('takes a replica lagging beyond HUB_REPLICA_MAX_LAG_MS out of rotation and says so on /readyz', async () => {
    const f = factories(primary);
    const reader = await f.user();
    await cluster.standby.query('SELECT pg_wal_replay_pause()');
    try {
      // Keep the primary writing so the unreplayed position ages past the bound.
      await eventually('the replica reported lagging', async () => {
        await f.user();
        const ready: any = await (await fetch(`${hub.base}/readyz`)).json();
        return ready.replicas[0].state === 'lagging';
      });
      const ready = await fetch(`${hub.base}/readyz`);
      expect(ready.status).toBe(200);
      const body: any = await ready.json();
      expect(body).toMatchObject({ status: 'ready', primary: 'up', replicas: [{ name: 'replica-0', state: 'lagging' }] });
      expect(body.replicas[0].lagMs).toBeGreaterThan(400);
      const read = await hub.gql(reader, MINE);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-hub-read-pool')).toBe('primary');
    } finally {
      await cluster.standby.query('SELECT pg_wal_replay_resume()');
    }
    await eventually('the replica back in rotation', () => hub.replicas.status()[0].state === 'up');
    expect((await hub.gql(reader, MINE)).headers.get('x-hub-read-pool')).toBe('replica-0');
  });

  it('ignores any x-hub-lsn that is not a WAL position: never a 5xx, never an error (fast-check)', async () => {
    const viewer = await factories(primary).user();
    let runs = 0;
    const headerValue = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.stringMatching(/^[0-9A-Fa-f]{0,12}\/[0-9A-Fa-f]{0,12}$/),
      fc.constantFrom('', '/', '0/0', 'FFFFFFFF/FFFFFFFF', '-1/0', '1/2/3', ' 0/1', 'G/0', '100000000/0', '0x1/0x2'),
    );
    await fc.assert(
      fc.asyncProperty(headerValue, async (raw) => {
        runs += 1;
        // Header values must be visible ASCII for fetch; anything else cannot be sent at all.
        const value = raw.replace(/[^\x20-\x7e]/g, '').trim();
        const read = await hub.gql(viewer, `{ sessions(first: 1) { totalCount } }`, {}, { 'x-hub-lsn': value });
        expect(read.status).toBe(200);
        expect(read.body.errors).toBeUndefined();
        expect(read.body.data.sessions.totalCount).toBe(0);
        expect(read.headers.get('x-hub-read-pool')).toMatch(/^(replica-0|primary)$/);
      }),
      { numRuns: 60 },
    );
    expect(runs).toBe(60);
  });

  it('clamps an x-hub-lsn beyond the primary to its position: a made-up one never makes reads wait for the standby', async () => {
    const viewer = await factories(primary).user();
    await cluster.caughtUp();
    // Beyond any position the primary has reached: before the clamp, every such read waited
    // HUB_REPLICA_WAIT_MS polling the standby, then fell back to the primary.
    const lsn = fc.oneof(fc.constant('FFFFFFFF/FFFFFFFF'), fc.tuple(fc.integer({ min: 0x100, max: 0xffffffff }), fc.nat()).map(([hi, lo]) => `${hi.toString(16)}/${lo.toString(16)}`));
    await fc.assert(
      fc.asyncProperty(lsn, async (value) => {
        const read = await hub.gql(viewer, `{ sessions(first: 1) { totalCount } }`, {}, { 'x-hub-lsn': value });
        expect(read.body.errors).toBeUndefined();
        expect(read.headers.get('x-hub-read-pool')).toBe('replica-0');
      }),
      { numRuns: 20 },
    );
  });

  it('fails reads over to the primary when the standby stops, with no error visible to clients, and takes it back', async () => {
    const f = factories(primary);
    const owner = await f.user();
    await f.session(owner);
    await cluster.caughtUp();
    const results: { status: number; errors: unknown; pool: string | null; count?: number }[] = [];
    let reading = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (reading) {
        const read = await hub.gql(owner, MINE);
        results.push({ status: read.status, errors: read.body.errors, pool: read.headers.get('x-hub-read-pool'), count: read.body.data?.sessions.totalCount });
      }
    });
    await eventually('reads on the standby', () => results.some((r) => r.pool === 'replica-0'));
    await cluster.standby.stop();
    await eventually('the replica reported down', () => hub.replicas.status()[0].state === 'down');
    const during = results.length;
    await eventually('reads on the primary', () => results.slice(during).filter((r) => r.pool === 'primary').length >= 10);
    const ready: any = await (await fetch(`${hub.base}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', replicas: [{ name: 'replica-0', state: 'down' }] });

    await cluster.standby.start();
    await eventually('the replica back in rotation', () => hub.replicas.status()[0].state === 'up', 30_000);
    const back = results.length;
    await eventually('reads on the standby again', () => results.slice(back).some((r) => r.pool === 'replica-0'));
    reading = false;
    await Promise.all(readers);

    const failed = results.filter((r) => r.status !== 200 || r.errors !== undefined || r.count !== 1);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
  }, 90_000);
});
