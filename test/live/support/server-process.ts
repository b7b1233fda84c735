import { TEST_SECRET, testDatabaseUrl } from '../../harness';
import { ChildServer, startChildServer } from '../../support/child-server';

export type ServerProcess = ChildServer & {
  /** e.g. http://127.0.0.1:41234/graphql */
  url: string;
};

/** `hub serve` from the sources (no build) on the run's test database, with the tests' JWT
 * secret so the harness's tokens work on it; a fast LISTEN reconnect for the outage tests. */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = await startChildServer({
    from: 'sources',
    args: ['--no-migrate'],
    env: { DATABASE_URL: testDatabaseUrl(), HUB_JWT_SECRET: TEST_SECRET, HUB_LIVE_RECONNECT_MAX_MS: '500', ...env },
  });
  return { ...child, url: child.graphqlUrl };
}
