import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../../ormconfig';
import { signToken } from '../../../src/auth/tokens';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { createServer, HubServer } from '../../../src/server';
import { User } from '../../../src/users/user.entity';
import { TEST_SECRET, testDatabaseUrl } from '../../harness';
import { gql, HttpResult } from './http';

export interface InProcessServer {
  url: string;
  dataSource: DataSource;
  server: HubServer;
  tokenFor(user: User): string;
  gql(query: string, variables?: Record<string, unknown>, as?: User): Promise<HttpResult>;
  close(): Promise<void>;
}

/** The real HTTP app in this process on the run's test database, like test/harness.ts but with a
 * production-sized pool, so concurrent requests really run concurrently in PostgreSQL. */
export async function startInProcess(options: { poolSize?: number; env?: Record<string, string> } = {}): Promise<InProcessServer> {
  const config = loadConfig({ HUB_JWT_SECRET: TEST_SECRET, DATABASE_URL: testDatabaseUrl(), ...(options.env ?? {}) });
  const dataSource = createDataSource({ url: config.databaseUrl!, poolSize: options.poolSize ?? 20, statementTimeoutMs: config.statementTimeoutMs });
  await dataSource.initialize();
  const server = await createServer({ dataSource, config, secret: TEST_SECRET, logger: createLogger(process.env.HUB_TEST_LOG_LEVEL ?? 'silent') });
  const url = `${await server.listen(0, '127.0.0.1')}/graphql`;
  const tokenFor = (user: User) => signToken(TEST_SECRET, user.id, 3600);
  return {
    url,
    dataSource,
    server,
    tokenFor,
    gql: (query, variables, as) => gql(url, as ? tokenFor(as) : undefined, query, variables, 30_000),
    async close() {
      await server.close();
      await dataSource.destroy();
    },
  };
}
