import { DataSource } from 'typeorm';
import { ReadReplicas } from '../../src/db/replicas';
import { HubServer } from '../../src/server';
import { User } from '../../src/users/user.entity';
import { startTestServer } from '../harness';

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

/** The test server (test/harness.ts) on a primary with `replicaUrls` as its read replicas. */
export async function startReplicatedServer(primaryUrl: string, replicaUrls: string[], env: Record<string, string> = {}): Promise<ReplicatedServer> {
  const t = await startTestServer(env, { databaseUrl: primaryUrl, replicaUrls });
  return {
    url: t.url,
    base: t.base,
    dataSource: t.dataSource,
    replicas: t.replicas!,
    server: t.server,
    async gql(user, query, variables, headers = {}) {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokenFor(user)}`, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as any, headers: response.headers };
    },
    close: () => t.close(),
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
