import 'reflect-metadata';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GraphQLFormattedError } from 'graphql';
import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { signToken } from '../src/auth/tokens';
import { Config, loadConfig } from '../src/config';
import { ReadReplicas } from '../src/db/replicas';
import { SqlStats } from '../src/db/sql-counter';
import { createLogger, Logger } from '../src/logger';
import { createServer, HubServer } from '../src/server';
import { User } from '../src/users/user.entity';
import { freshDatabase } from './databases';
import { factories, Factories } from './factories';
import { expectInvariants } from './invariants';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-production-rules';

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: GraphQLFormattedError[];
  /** SQL statements the request issued, authentication and transactions included. */
  sql: number;
  statements: string[];
  headers: Headers;
}

export interface GqlOptions {
  /** The user to run as; `null` sends no token. */
  as?: User | null;
  /** A raw Authorization header value, instead of `as`. */
  authorization?: string;
}

export interface TestServer {
  /** The GraphQL endpoint (`<base>/graphql`). */
  url: string;
  /** The server's origin, e.g. http://127.0.0.1:41234. */
  base: string;
  /** With `replicaUrls`: the read replicas the server routes reads to. */
  replicas?: ReadReplicas;
  dataSource: DataSource;
  config: Config;
  server: HubServer;
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: GqlOptions): Promise<GqlResult<T>>;
  tokenFor(user: User, ttlSeconds?: number): string;
  close(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env.HUB_TEST_DATABASE_URL;
  if (!url) throw new Error('HUB_TEST_DATABASE_URL is unset: run the tests through jest (test/global-setup.ts)');
  return url;
}

/** Where and how big: the defaults are the run's test database and a pool of 5. */
export interface TestServerSetup {
  /** The database (default: `env.DATABASE_URL`, else the run's test database). */
  databaseUrl?: string;
  poolSize?: number;
  /** Streaming replicas the server reads from (HUB_READ_REPLICA_URLS), pools of 5. */
  replicaUrls?: string[];
  /** The server's logger (default: silent, or HUB_TEST_LOG_LEVEL), for tests that read what it logs. */
  logger?: Logger;
}

/**
 * The one way the tests start the server in this process (test/starters.test.ts refuses
 * another): the real HTTP app on an ephemeral loopback port, `env` over the test settings.
 * `useTestServer` wraps it for a test file.
 */
export async function startTestServer(env: Record<string, string> = {}, setup: TestServerSetup = {}): Promise<TestServer> {
  // The server's pool and its config name one database, whichever way the test gave it.
  const databaseUrl = setup.databaseUrl ?? env.DATABASE_URL ?? testDatabaseUrl();
  const replicaUrls = setup.replicaUrls ?? [];
  const config = loadConfig({
    HUB_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: databaseUrl,
    ...(replicaUrls.length ? { HUB_READ_REPLICA_URLS: replicaUrls.join(',') } : {}),
    ...env,
  });
  const logger = setup.logger ?? createLogger(process.env.HUB_TEST_LOG_LEVEL ?? 'silent');
  const dataSource = createDataSource({ url: databaseUrl, poolSize: setup.poolSize ?? 5, statementTimeoutMs: config.statementTimeoutMs });
  await dataSource.initialize();
  let replicas: ReadReplicas | undefined;
  if (replicaUrls.length) {
    replicas = new ReadReplicas(dataSource, {
      urls: config.scale.readReplicaUrls,
      waitMs: config.scale.replicaWaitMs,
      maxLagMs: config.scale.replicaMaxLagMs,
      poolSize: 5,
      logger,
    });
    await replicas.start();
  }
  let last: SqlStats = { statements: 0, log: [] };
  const server = await createServer({
    dataSource,
    config,
    secret: TEST_SECRET,
    logger,
    replicas,
    onRequestStats: (stats) => {
      last = stats;
    },
  });
  const base = await server.listen(0, '127.0.0.1');
  const url = `${base}/graphql`;
  const tokenFor = (user: User, ttlSeconds = 600) => signToken(TEST_SECRET, user.id, ttlSeconds);

  return {
    url,
    base,
    replicas,
    dataSource,
    config,
    server,
    tokenFor,
    async gql(query, variables, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.authorization !== undefined) headers.authorization = options.authorization;
      else if (options.as) headers.authorization = `Bearer ${tokenFor(options.as)}`;
      last = { statements: 0, log: [] };
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data?: any; errors?: GraphQLFormattedError[] };
      return {
        status: response.status,
        data: body.data,
        errors: body.errors,
        sql: Number(response.headers.get('x-sql-statements') ?? NaN),
        statements: last.log ?? [],
        headers: response.headers,
      };
    },
    async close() {
      await server.close();
      await replicas?.stop();
      await dataSource.destroy();
    },
  };
}

/** The `extensions.code` of each error, for compact assertions. */
export function codes(result: GqlResult): string[] {
  return (result.errors ?? []).map((e) => String(e.extensions?.code));
}

/** The `extensions.validation` fields of a BAD_USER_INPUT result. */
export function invalidFields(result: GqlResult): string[] {
  expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  return ((result.errors![0].extensions!.validation ?? []) as { field: string }[]).map((v) => v.field);
}

export interface TestServerOptions {
  /** After every test, the whole database must be consistent (test/invariants.ts): the write tests. */
  invariants?: boolean;
  /** A new database for this file, dropped after it: no other test file's writes reach it. */
  ownDatabase?: boolean;
}

/**
 * One test server for a test file: started before its tests, closed after them. The returned
 * `t` and `f` stand for the server and its factories from then on, so a file needs one line:
 * `const { t, f } = useTestServer();` (a write test: `useTestServer({}, { invariants: true })`).
 */
export function useTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): { t: TestServer; f: Factories } {
  let server: TestServer | undefined;
  let made: Factories | undefined;
  let own: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    if (options.ownDatabase) own = await freshDatabase(testDatabaseUrl());
    server = await startTestServer(own ? { ...env, DATABASE_URL: own.url } : env);
    made = factories(server.dataSource);
  }, options.ownDatabase ? 120_000 : undefined);
  if (options.invariants) afterEach(() => expectInvariants(started(server).dataSource));
  afterAll(async () => {
    await server?.close();
    await own?.drop();
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error('useTestServer: the server starts in beforeAll; use it inside tests and hooks');
    return value;
  };
  const forward = <T extends object>(target: () => T) =>
    new Proxy({} as T, {
      get: (_, key) => {
        const value = (target() as Record<string | symbol, unknown>)[key];
        return typeof value === 'function' ? value.bind(target()) : value;
      },
    });
  return { t: forward(() => started(server)), f: forward(() => started(made)) };
}

/** What a test on a database of its own gets (`onFreshDatabase`). */
export interface FreshDatabase {
  url: string;
  ds: DataSource;
  f: Factories;
  /** An empty directory of its own, for the local audio store. */
  audioDir: string;
}

/**
 * Runs `fn` on a new, migrated database (an open DataSource of `poolSize` connections, factories)
 * and a new audio directory; afterwards, whatever `fn` did, the DataSource is closed, the database
 * dropped and the directory removed. For tests that count or revert what the shared one cannot.
 */
export async function onFreshDatabase<T>(fn: (db: FreshDatabase) => Promise<T>, poolSize = 2): Promise<T> {
  const db = await freshDatabase(testDatabaseUrl());
  const audioDir = path.join(os.tmpdir(), `hub-fresh-${randomUUID()}`);
  const ds = createDataSource({ url: db.url, poolSize });
  try {
    await ds.initialize();
    return await fn({ url: db.url, ds, f: factories(ds), audioDir });
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await db.drop();
    await fs.rm(audioDir, { recursive: true, force: true });
  }
}
