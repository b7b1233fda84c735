import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { signToken } from '../../src/auth/tokens';
import { loadConfig } from '../../src/config';
import { ReadReplicas } from '../../src/db/replicas';
import { createLogger } from '../../src/logger';
import { createServer, HubServer } from '../../src/server';
import { User } from '../../src/users/user.entity';
import { TEST_SECRET } from '../harness';

export interface ReplicatedServer {
  url: string;
  base: string;
  dataSource: DataSource;
  replicas: ReadReplicas;
  server: HubServer;
  /** POSTs a GraphQL request as `user`, with extra headers; the raw response's parts. */
  gql(user: User, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{
    status: number;
    body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
    headers: Headers;
  }>;
  close(): Promise<void>;
}

/** The real server on a primary with `replicaUrls` as its read replicas, on an ephemeral port. */
export async function startReplicatedServer(primaryUrl: string, replicaUrls: string[], env: Record<string, string> = {}): Promise<ReplicatedServer> {
  const config = loadConfig({
    HUB_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: primaryUrl,
    HUB_READ_REPLICA_URLS: replicaUrls.join(','),
    ...env,
  });
  const logger = createLogger(process.env.HUB_TEST_LOG_LEVEL ?? 'silent');
  const dataSource = createDataSource({ url: primaryUrl, poolSize: 5, statementTimeoutMs: config.statementTimeoutMs });
  await dataSource.initialize();
  const replicas = new ReadReplicas(dataSource, {
    urls: config.scale.readReplicaUrls,
    waitMs: config.scale.replicaWaitMs,
    maxLagMs: config.scale.replicaMaxLagMs,
    poolSize: 5,
    logger,
  });
  await replicas.start();
  const server = await createServer({ dataSource, config, secret: TEST_SECRET, logger, replicas });
  const base = await server.listen(0, '127.0.0.1');
  return {
    url: `${base}/graphql`,
    base,
    dataSource,
    replicas,
    server,
    async gql(user, query, variables, headers = {}) {
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${signToken(TEST_SECRET, user.id, 600)}`, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as any, headers: response.headers };
    },
    async close() {
      await server.close();
      await replicas.stop();
      await dataSource.destroy();
    },
  };
}

/** Polls `check` until it returns true (every 25 ms), failing with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
