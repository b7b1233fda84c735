import { ConfigError, loadConfig } from '../src/config';
import { startTestServer, useTestServer } from './harness';

describe('operations endpoints', () => {
  const { t, f } = useTestServer();
  const base = () => t.url.replace(/\/graphql$/, '');

  it('exposes Prometheus metrics: request duration, SQL statements and errors by operation, pool usage', async () => {
    const user = await f.user();
    await t.gql('query WhoAmI { me { id } }', {}, { as: user });
    await t.gql('query Broken { me { nope } }', {}, { as: user });
    await Promise.all([f.session(user), f.session(user)]);
    // Through `User.sessions`: a page `Query.sessions` would fetch the skills with, leaving no batch.
    await t.gql('query Mine { me { sessions { nodes { id skills { id } } } } }', {}, { as: user });
    const response = await fetch(`${base()}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/hub_graphql_request_duration_seconds_count\{operation="WhoAmI"\} 1/);
    expect(text).toMatch(/hub_graphql_sql_statements_sum\{operation="WhoAmI"\} 1/);
    expect(text).toMatch(/hub_graphql_errors_total\{code="BAD_USER_INPUT"\} [1-9]/);
    expect(text).toMatch(/hub_db_pool_connections\{pool="primary",state="total"\} \d+/);
    // Both sessions' skills came in one batch of two keys.
    expect(text).toMatch(/hub_dataloader_batch_size_sum\{loader="skillsBySessionId"\} 2/);
    expect(text).toMatch(/hub_dataloader_batch_size_count\{loader="skillsBySessionId"\} 1/);
    expect(text).toContain('hub_process_resident_memory_bytes');
  });

  it('keeps a sane caller request id and answers with it', async () => {
    const user = await f.user();
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokenFor(user)}`, 'x-request-id': 'trace-42' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.headers.get('x-request-id')).toBe('trace-42');
  });
});

describe('readiness', () => {
  it('reports 503 while the database is unreachable, 200 on /healthz still', async () => {
    const t = await startTestServer();
    const base = t.url.replace(/\/graphql$/, '');
    await t.dataSource.destroy();
    try {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await t.server.close();
    }
  });
});

describe('configuration', () => {
  it('names every bad variable in one error', () => {
    try {
      loadConfig({ PORT: 'eighty', HUB_MAX_PAGE_SIZE: '0', DATABASE_URL: 'mysql://x' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toContain('PORT');
      expect(problems).toContain('HUB_MAX_PAGE_SIZE');
      expect(problems).toContain('DATABASE_URL');
    }
  });

  it('refuses production without HUB_JWT_SECRET, or with a short one', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/HUB_JWT_SECRET is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', HUB_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(loadConfig({ NODE_ENV: 'production', HUB_JWT_SECRET: 'x'.repeat(32) }).production).toBe(true);
  });
});
