/**
 * Independent `hub serve` processes (the built server) on one primary with a streaming standby as
 * their read replica: they start together on an empty database (one migrates, the others wait on
 * the lock), share one generated secret, one APQ cache, and a writer's reads on the other process
 * are never stale. Concurrent `hub migrate` runs migrate once. Runs in `npm run test:reliability`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../../ormconfig';
import { signToken } from '../../../src/auth/tokens';
import { MIGRATIONS } from '../../../migrations';
import { factories } from '../../factories';
import { ChildServer, runHub, startChildServer, tempDir } from '../../support/child-server';
import { ReplicatedCluster, startReplicatedCluster } from '../../support/replication';

let cluster: ReplicatedCluster;
let dataDir: string;
const children: ChildServer[] = [];

beforeAll(async () => {
  cluster = await startReplicatedCluster();
  dataDir = tempDir('hub-scale-two-');
}, 120_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop(20_000)));
  await cluster?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** `hub <args>` (the built CLI) to its exit. */
const hub = (env: Record<string, string>, ...args: string[]) => runHub(args, { env });

async function post(url: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

test('four concurrent `hub migrate` runs migrate once; the others find nothing pending', async () => {
  await cluster.primary.query('CREATE DATABASE hub_migrate_race', [], 'postgres');
  const url = cluster.primary.url.replace(/\/hub$/, '/hub_migrate_race');
  const runs = await Promise.all(Array.from({ length: 4 }, () => hub({ DATABASE_URL: url, HUB_JWT_SECRET: 'x'.repeat(40) }, 'migrate')));
  expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
  expect(runs.filter((r) => /applied [A-Z]\w+\d{13}/.test(r.output)).length).toBe(1);
  expect(runs.filter((r) => r.output.includes('no pending migrations')).length).toBe(3);
  const rows = await cluster.primary.query<{ name: string }>('SELECT name FROM migrations ORDER BY id', [], 'hub_migrate_race');
  expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => (m as unknown as { name: string }).name));
}, 120_000);

describe('two `hub serve` processes on one primary and its standby', () => {
  let primary: DataSource;
  let a: ChildServer;
  let b: ChildServer;
  let token: string;

  beforeAll(async () => {
    // Both start at once on the empty database and generate the dev secret in one data dir.
    const env = {
      DATABASE_URL: cluster.primary.url,
      HUB_READ_REPLICA_URLS: cluster.standby.url,
      HUB_DATA_DIR: dataDir,
      HUB_REPLICA_WAIT_MS: '500',
    };
    [a, b] = await Promise.all([startChildServer({ env }), startChildServer({ env })]);
    children.push(a, b);
    primary = createDataSource({ url: cluster.primary.url, poolSize: 2 });
    await primary.initialize();
    const secret = fs.readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim();
    const writer = await factories(primary).user();
    token = signToken(secret, writer.id, 600);
  }, 180_000);
  afterAll(() => primary?.destroy());

  it('migrated once and share one secret: a token is good on both', async () => {
    const [{ n }] = await cluster.primary.query<{ n: number }>('SELECT count(*)::int AS n FROM migrations');
    expect(n).toBe(MIGRATIONS.length);
    for (const server of [a, b]) expect((await post(server.graphqlUrl, token, { query: '{ me { id } }' })).body.data.me.id).toBeDefined();
  });

  it('finds on one process a persisted query registered on the other', async () => {
    const query = `query Persisted${Date.now()} { me { id email } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const unknown = await post(b.graphqlUrl, token, { extensions });
    // This API's vocabulary: BAD_USER_INPUT, with Apollo's message that clients look for.
    expect(unknown.body.errors[0].message).toBe('PersistedQueryNotFound');
    expect((await post(a.graphqlUrl, token, { query, extensions })).body.data.me.id).toBeDefined();
    const found = await post(b.graphqlUrl, token, { extensions });
    expect(found.body.errors).toBeUndefined();
    expect(found.body.data.me.id).toBeDefined();
    // The registering answer leaves once the hash is stored: the very next request, on either
    // process, finds it (Apollo does not await its cache's write; a race answered NotFound once in CI).
    for (let i = 0; i < 20; i += 1) {
      const [on, next] = i % 2 ? [a, b] : [b, a];
      const text = `query Persisted${Date.now()}_${i} { me { id${i % 3 ? ' email' : ''} } }`;
      const hashed = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(text).digest('hex') } };
      expect((await post(on.graphqlUrl, token, { query: text, extensions: hashed })).body.errors).toBeUndefined();
      expect({ i, errors: (await post(next.graphqlUrl, token, { extensions: hashed })).body.errors }).toEqual({ i, errors: undefined });
    }
  });

  it('never shows the writer a stale read on the other process: 0 stale in 100 write-then-read rounds', async () => {
    let stale = 0;
    let lsn = '';
    const pools: Record<string, number> = {};
    for (let i = 0; i < 100; i += 1) {
      const [writeOn, readOn] = i % 2 === 0 ? [a, b] : [b, a];
      const write = await post(
        writeOn.graphqlUrl,
        token,
        { query: 'mutation W($t: String!) { createSession(input: { title: $t }) { id } }', variables: { t: `round ${i}` } },
        lsn ? { 'x-hub-lsn': lsn } : {},
      );
      expect(write.body.errors).toBeUndefined();
      lsn = write.headers.get('x-hub-lsn')!;
      expect(lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const id = write.body.data.createSession.id;
      const read = await post(readOn.graphqlUrl, token, { query: 'query R($id: ID!) { session(id: $id) { id title } }', variables: { id } }, { 'x-hub-lsn': lsn });
      if (read.body.data?.session?.title !== `round ${i}`) stale += 1;
      const pool = read.headers.get('x-hub-read-pool')!;
      pools[pool] = (pools[pool] ?? 0) + 1;
    }
    expect(stale).toBe(0);
    expect(pools['replica-0']).toBeGreaterThan(0);
    console.log(`write-then-read across processes: 100 rounds, 0 stale, reads by pool ${JSON.stringify(pools)}`);
  });
});
