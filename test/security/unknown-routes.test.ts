/**
 * #21.7: a route the server does not have answers a JSON 404 with a code, for any path and method,
 * never Express's HTML page; the routes it has keep answering.
 */
import fc from 'fast-check';
import { useTestServer } from '../harness';
import { rawRequest } from '../support/raw-http';

const { t } = useTestServer();
const KNOWN = /^\/(graphql|healthz|readyz|metrics|audio|playground|live-dashboard)(\/|$|\?)/;

describe('unknown routes', () => {
  it('answer 404 in the API error shape (NOT_FOUND), whatever the path and method', async () => {
    const base = t.url.replace(/\/graphql$/, '');
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,20}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), async (segments, method) => {
        const path = `/${segments.join('/')}`;
        fc.pre(!KNOWN.test(path) && !segments.some((s) => s === '.' || s === '..'));
        const answer = await rawRequest(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
        expect(answer.status).toBe(404);
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
        expect(answer.json.errors[0].extensions.code).toBe('NOT_FOUND');
      }),
      { numRuns: 60 },
    );
    expect((await rawRequest(`${base}/healthz`, { method: 'GET' })).status).toBe(200);
  });
});
