import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config';
import { MAX_OPERATION_LABEL_LENGTH, MAX_OPERATION_LABELS } from '../../src/http/metrics';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';

const METRICS_TOKEN = 'metrics-token-that-is-long-enough-0123456789';

async function post(t: TestServer, token: string, body: unknown): Promise<number> {
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

function operationLabelsIn(text: string): Set<string> {
  const labels = new Set<string>();
  for (const match of text.matchAll(/operation="((?:[^"\\]|\\.)*)"/g)) labels.add(JSON.parse(`"${match[1]}"`));
  return labels;
}

describe('/metrics operation labels', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Every case is a new document: the per-viewer budget of new documents (a separate defence)
    // is lifted so that each one reaches the metrics.
    t = await startTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000' });
  });
  afterAll(() => t.close());

  it('stay bounded whatever operation names clients send: long, many, unicode, failing validation (fast-check)', async () => {
    const user = await factories(t.dataSource).user();
    const token = t.tokenFor(user);
    const graphqlName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);
    // Each case is one request: an executed operation with a fresh name (many distinct), a long
    // executed name, a unicode/garbage operationName the document does not have, or a named
    // operation that fails validation.
    const request = fc.oneof(
      graphqlName.map((name) => ({ kind: 'executed', body: { query: `query ${name} { me { id } }`, operationName: name } })),
      fc.integer({ min: 65, max: 20_000 }).map((length) => {
        const name = `Long${'x'.repeat(length)}`;
        return { kind: 'long', body: { query: `query ${name} { me { id } }`, operationName: name } };
      }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }).map((name) => ({ kind: 'unknown', body: { query: `query Known { me { id } }`, operationName: name } })),
      graphqlName.map((name) => ({ kind: 'invalid', body: { query: `query ${name} { me { nope } }`, operationName: name } })),
    );
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ body }) => {
        cases += 1;
        expect(await post(t, token, body)).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
    // Many distinct valid names that all execute: more than the label budget.
    for (let i = 0; i < MAX_OPERATION_LABELS + 20; i += 1) {
      await post(t, token, { query: `query Distinct${i} { me { id } }`, operationName: `Distinct${i}` });
    }
    const text = await (await fetch(t.url.replace(/\/graphql$/, '/metrics'))).text();
    const labels = operationLabelsIn(text);
    expect(cases).toBe(400);
    // The budget of executed names, plus the fixed ones.
    expect(labels.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 3);
    expect(labels).toContain('other');
    expect(labels).toContain('rejected');
    for (const label of labels) expect(Array.from(label).length).toBeLessThanOrEqual(MAX_OPERATION_LABEL_LENGTH);
    // No unknown name and no name of an operation that failed validation became a label.
    expect([...labels].some((l) => l.startsWith('Known'))).toBe(false);
    expect(text.length).toBeLessThan(2_000_000);
  }, 120_000);

  it('counts one executed operation once, under its own name or (the budget of names spent) other', async () => {
    const user = await factories(t.dataSource).user();
    const counts = async () => {
      const text = await (await fetch(t.url.replace(/\/graphql$/, '/metrics'))).text();
      const count = (label: string) => Number(new RegExp(`^hub_graphql_request_duration_seconds_count\\{operation="${label}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { own: count('CountedOnce'), other: count('other') };
    };
    const before = await counts();
    await post(t, t.tokenFor(user), { query: 'query CountedOnce { me { id } }' });
    const after = await counts();
    expect(after.own - before.own + (after.other - before.other)).toBe(1);
  });
});

describe('/metrics access', () => {
  it('in production needs HUB_METRICS_TOKEN as a bearer token', async () => {
    const t = await startTestServer({ NODE_ENV: 'production', HUB_METRICS_TOKEN: METRICS_TOKEN });
    try {
      const url = t.url.replace(/\/graphql$/, '/metrics');
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('hub_graphql_errors_total');
    } finally {
      await t.close();
    }
  });

  it('in production without a token or a port is not served at all', async () => {
    const t = await startTestServer({ NODE_ENV: 'production' });
    try {
      expect((await fetch(t.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('with HUB_METRICS_PORT is served only on that port', async () => {
    const t = await startTestServer({ NODE_ENV: 'production', HUB_METRICS_PORT: '0' });
    try {
      expect((await fetch(t.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
      expect(t.server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(t.server.metricsUrl).not.toContain(new URL(t.url).port);
      const ok = await fetch(t.server.metricsUrl!);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('hub_db_pool_connections{pool="primary",state="total"}');
    } finally {
      await t.close();
    }
  });

  it('refuses bad scale settings at start, naming each', () => {
    const bad = {
      HUB_JWT_SECRET: 'x'.repeat(40),
      NODE_ENV: 'production',
      HUB_WORKERS: 'many',
      HUB_READ_REPLICA_URLS: 'mysql://x',
      HUB_REPLICA_WAIT_MS: '-1',
      HUB_REPLICA_MAX_LAG_MS: 'soon',
      HUB_METRICS_TOKEN: 'short',
      HUB_METRICS_PORT: '70000',
    };
    let error: ConfigError | undefined;
    try {
      loadConfig(bad);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of ['HUB_WORKERS', 'HUB_READ_REPLICA_URLS', 'HUB_REPLICA_WAIT_MS', 'HUB_REPLICA_MAX_LAG_MS', 'HUB_METRICS_TOKEN', 'HUB_METRICS_PORT']) {
      expect(error!.problems.join('\n')).toContain(name);
    }
    expect(loadConfig({ HUB_WORKERS: 'auto' }).scale.workers).toBeGreaterThanOrEqual(1);
  });
});
