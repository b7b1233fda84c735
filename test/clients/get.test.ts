/**
 * GET queries from standard clients (issue #16, item 1): urql and graphql-request send short
 * queries as GET with no content-type. A request carrying `Authorization` cannot be a browser's
 * simple cross-site request, so it is served; a header-less simple request is still refused as a
 * possible CSRF; mutations by GET stay refused with a code; GET answers are `private, no-store`.
 */
import { useTestServer } from '../harness';

const { t, f } = useTestServer();

function getUrl(query: string, variables?: Record<string, unknown>): string {
  const url = new URL(t.url);
  url.searchParams.set('query', query);
  if (variables) url.searchParams.set('variables', JSON.stringify(variables));
  return url.toString();
}

describe('GET /graphql', () => {
  it('serves a query sent with only an Authorization header, as private and uncacheable', async () => {
    const member = await f.user();
    const response = await fetch(getUrl('query Me { me { id } }'), { headers: { authorization: `Bearer ${t.tokenFor(member)}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(await response.json()).toEqual({ data: { me: { id: member.id } } });
  });

  it('serves variables by GET too', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const response = await fetch(getUrl('query ($id: ID!) { session(id: $id) { id } }', { id: session.id }), {
      headers: { authorization: `Bearer ${t.tokenFor(member)}` },
    });
    expect(await response.json()).toEqual({ data: { session: { id: session.id } } });
  });

  it('still refuses a simple request without headers as a possible CSRF, with a code', async () => {
    const response = await fetch(getUrl('{ me { id } }'));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(body.errors[0].message).toMatch(/CSRF/);
    // A simple request with a cookie-style identity gets no further than one without.
    const withCookie = await fetch(getUrl('{ me { id } }'), { headers: { cookie: 'session=1' } });
    expect(withCookie.status).toBe(400);
  });

  it('refuses a mutation by GET with a code, and changes nothing', async () => {
    const member = await f.user();
    const response = await fetch(getUrl('mutation { createSession(input: { title: "by GET" }) { id } }'), {
      headers: { authorization: `Bearer ${t.tokenFor(member)}` },
    });
    expect(response.status).toBe(405);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [member.id]);
    expect(n).toBe(0);
  });

  it('keeps POST answers free of the GET cache header', async () => {
    const member = await f.user();
    const result = await t.gql('{ me { id } }', {}, { as: member });
    expect(result.headers.get('cache-control')).toBeNull();
  });
});
