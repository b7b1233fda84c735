/**
 * Protocol conformance (issue #16, item 5): graphql-http's GraphQL-over-HTTP server audits run
 * against the real server, authenticated, in development and in production mode (production
 * refuses introspection; it runs once as configured and once with HUB_INTROSPECTION=true). No
 * MUST audit may fail; the SHOULD/MAY warnings that remain are exactly the ones the README
 * explains (listed below), so a new one fails the test until it is understood and written down.
 */
import { serverAudits } from 'graphql-http';
import { factories } from '../factories';
import { startTestServer } from '../harness';

/**
 * The warnings the README's "GraphQL over HTTP conformance" section explains, by audit id:
 * Apollo Server answers a document that does not parse or validate, or variables that do not
 * coerce, with 400 even under `accept: application/json`, where the spec prefers 200.
 */
const EXPLAINED = new Set(['572B', 'FDE2', '7B9B']);

type Mode = { name: string; env: Record<string, string> };
const MODES: Mode[] = [
  { name: 'development', env: {} },
  { name: 'production', env: { NODE_ENV: 'production' } },
  { name: 'production with HUB_INTROSPECTION=true', env: { NODE_ENV: 'production', HUB_INTROSPECTION: 'true' } },
];

describe('graphql-http server audits', () => {
  it.each(MODES.map((m) => [m.name, m] as const))('%s: no MUST audit fails', async (_name, mode) => {
    const t = await startTestServer(mode.env);
    try {
      const user = await factories(t.dataSource).user();
      const token = t.tokenFor(user);
      const fetchFn: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('authorization', `Bearer ${token}`);
        return fetch(input, { ...init, headers });
      };
      const failures: string[] = [];
      const warnings: string[] = [];
      const needIntrospection: string[] = [];
      for (const audit of serverAudits({ url: t.url, fetchFn })) {
        const result = await audit.fn();
        if (result.status === 'ok') continue;
        const line = `${audit.id} ${audit.name}: ${result.reason}`;
        // Some audits query `__type`: production refuses introspection, so those audits are
        // answered by the run with HUB_INTROSPECTION=true, where they must pass.
        const body = 'response' in result ? await (result.response as Response).clone().text().catch(() => '') : '';
        if (!t.config.introspection && /introspection/i.test(body)) {
          needIntrospection.push(audit.id);
          continue;
        }
        if (audit.name.startsWith('MUST') || result.status === 'error') failures.push(line);
        else warnings.push(line);
      }
      if (process.env.HUB_PRINT_STATEMENTS) console.log(`${mode.name}: ${warnings.length} warnings, ${needIntrospection.length} audits need introspection\n${warnings.join('\n')}`);
      expect(failures).toEqual([]);
      expect(warnings.map((w) => w.split(' ')[0]).filter((id) => !EXPLAINED.has(id))).toEqual([]);
      if (t.config.introspection) expect(needIntrospection).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
