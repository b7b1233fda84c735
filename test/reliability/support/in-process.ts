import { DataSource } from 'typeorm';
import { HubServer } from '../../../src/server';
import { User } from '../../../src/users/user.entity';
import { startTestServer } from '../../harness';
import { gql, HttpResult } from './http';

export interface InProcessServer {
  url: string;
  dataSource: DataSource;
  server: HubServer;
  tokenFor(user: User): string;
  gql(query: string, variables?: Record<string, unknown>, as?: User): Promise<HttpResult>;
  close(): Promise<void>;
}

/** The test server (test/harness.ts) with a production-sized pool, so concurrent requests really
 * run concurrently in PostgreSQL; requests through the reliability suite's client (timeouts). */
export async function startInProcess(options: { poolSize?: number; env?: Record<string, string> } = {}): Promise<InProcessServer> {
  const t = await startTestServer(options.env ?? {}, { poolSize: options.poolSize ?? 20 });
  const tokenFor = (user: User) => t.tokenFor(user, 3600);
  return {
    url: t.url,
    dataSource: t.dataSource,
    server: t.server,
    tokenFor,
    gql: (query, variables, as) => gql(t.url, as ? tokenFor(as) : undefined, query, variables, 30_000),
    close: () => t.close(),
  };
}
