import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { verifyToken } from '../src/auth/tokens';
import { runHub } from './cli-runner';
import { codes, TEST_SECRET, testDatabaseUrl, useTestServer } from './harness';

const { t, f } = useTestServer();

const ME = '{ me { id email role } }';

describe('authentication', () => {
  it('resolves me from a valid token with a single SQL statement', async () => {
    const user = await f.user();
    const result = await t.gql(ME, {}, { as: user });
    expect(result.errors).toBeUndefined();
    expect(result.data.me).toEqual({ id: user.id, email: user.email, role: 'MEMBER' });
    expect(result.sql).toBe(1);
  });

  it.each([
    ['no header', undefined],
    ['an empty bearer', 'Bearer '],
    ['a non-bearer scheme', 'Basic dXNlcjpwYXNz'],
    ['a malformed token', 'Bearer not.a.jwt'],
  ])('rejects %s as UNAUTHENTICATED with status 401', async (_name, authorization) => {
    const result = await t.gql(ME, {}, { authorization: authorization ?? '' });
    expect(result.status).toBe(401);
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.data).toBeUndefined();
  });

  it('rejects an expired token', async () => {
    const user = await f.user();
    const token = jwt.sign({ sub: user.id, exp: Math.floor(Date.now() / 1000) - 3600 }, TEST_SECRET, { algorithm: 'HS256' });
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${token}` }))).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects a token signed with another secret', async () => {
    const user = await f.user();
    const token = jwt.sign({ sub: user.id }, 'some-other-secret-of-sufficient-length!!', { algorithm: 'HS256', expiresIn: 60 });
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${token}` }))).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects an unsigned alg:none token', async () => {
    const user = await f.user();
    const token = jwt.sign({ sub: user.id }, '', { algorithm: 'none', expiresIn: 60 });
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${token}` }))).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects a token signed with another algorithm than HS256', async () => {
    const user = await f.user();
    const token = jwt.sign({ sub: user.id }, TEST_SECRET, { algorithm: 'HS512', expiresIn: 60 });
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${token}` }))).toEqual(['UNAUTHENTICATED']);
  });

  it('honours not-before, with a small clock skew', async () => {
    const user = await f.user();
    const now = Math.floor(Date.now() / 1000);
    const sign = (nbf: number) => jwt.sign({ sub: user.id, nbf, exp: now + 600 }, TEST_SECRET, { algorithm: 'HS256' });
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${sign(now + 600)}` }))).toEqual(['UNAUTHENTICATED']);
    const early = await t.gql(ME, {}, { authorization: `Bearer ${sign(now + 10)}` });
    expect(early.data.me.id).toBe(user.id);
  });

  it('tolerates a small clock skew on expiry, not more', async () => {
    const user = await f.user();
    const now = Math.floor(Date.now() / 1000);
    const sign = (exp: number) => jwt.sign({ sub: user.id, exp }, TEST_SECRET, { algorithm: 'HS256' });
    expect((await t.gql(ME, {}, { authorization: `Bearer ${sign(now - 5)}` })).data.me.id).toBe(user.id);
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${sign(now - 120)}` }))).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects a token whose subject is not a user id', async () => {
    const token = jwt.sign({ sub: 'admin' }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 60 });
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${token}` }))).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects the token of a user that no longer exists', async () => {
    const user = await f.user();
    const token = t.tokenFor(user);
    await t.dataSource.query('DELETE FROM users WHERE id = $1', [user.id]);
    expect(codes(await t.gql(ME, {}, { authorization: `Bearer ${token}` }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('errors', () => {
  it('reports a syntax error as BAD_USER_INPUT with a validation entry, never a 500', async () => {
    const user = await f.user();
    const result = await t.gql('{ me { id ', {}, { as: user });
    expect(result.status).toBe(400);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect((result.errors![0].extensions!.validation as unknown[]).length).toBe(1);
  });

  it('reports an unknown field as BAD_USER_INPUT', async () => {
    const user = await f.user();
    const result = await t.gql('{ me { password } }', {}, { as: user });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('health endpoints', () => {
  const base = () => t.url.replace(/\/graphql$/, '');

  it('answers /healthz while the process is up', async () => {
    const response = await fetch(`${base()}/healthz`);
    expect(response.status).toBe(200);
  });

  it('answers /readyz with 200 while the database is reachable', async () => {
    const response = await fetch(`${base()}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', live: 'listening' });
  });
});

/** HS256 by hand: jsonwebtoken's sign() refuses an `exp` that is not a number. */
function signRaw(claims: object): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${head}.${body}.${createHmac('sha256', TEST_SECRET).update(`${head}.${body}`).digest('base64url')}`;
}

describe('token lifetime (HUB_MAX_TOKEN_TTL, default 24 h)', () => {
  const DAY = 24 * 3600;
  const TOLERANCE = 30;
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts a token only when it has an exp, not yet past and at most the maximum ahead', async () => {
    const user = await f.user();
    // Offsets around the edges (past, just valid, the cap, just beyond) and anywhere up to a year.
    const offset = fc.oneof(
      fc.integer({ min: -7200, max: 7200 }),
      fc.integer({ min: DAY - 600, max: DAY + 600 }),
      fc.integer({ min: DAY + 600, max: 365 * DAY }),
    );
    const claims = fc.record(
      {
        exp: fc.oneof({ weight: 6, arbitrary: offset.map((o) => ({ offset: o })) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('soon', null, true, [1], 1e309) }),
        iat: fc.option(fc.integer({ min: -DAY, max: DAY }), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    const outcomes = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(claims, async ({ exp, iat }) => {
        const at = now();
        const payload: Record<string, unknown> = { sub: user.id };
        if (exp !== undefined) payload.exp = typeof exp === 'object' && exp !== null && 'offset' in exp ? at + (exp as { offset: number }).offset : exp;
        if (iat !== undefined) payload.iat = at + iat;
        const token = signRaw(payload);
        const result = await t.gql(ME, {}, { authorization: `Bearer ${token}` });
        const expiry = payload.exp;
        // Seconds of slack either side of the edges for the time the request takes.
        if (typeof expiry === 'number' && Math.abs(expiry - at) > 5 && Math.abs(expiry - (at + DAY + TOLERANCE)) > 5) {
          const valid = expiry > at - TOLERANCE && expiry <= at + DAY + TOLERANCE;
          if (valid) expect(result.data?.me?.id).toBe(user.id);
          else expect(codes(result)).toEqual(['UNAUTHENTICATED']);
          if (valid) outcomes.accepted += 1;
          else outcomes.refused += 1;
        } else if (typeof expiry !== 'number' || !Number.isFinite(expiry)) {
          expect(result.status).toBe(401);
          expect(codes(result)).toEqual(['UNAUTHENTICATED']);
          outcomes.refused += 1;
        }
      }),
      { numRuns: 200, examples: [[{}], [{ exp: { offset: 30 * DAY } }]] },
    );
    expect(outcomes.accepted).toBeGreaterThan(10);
    expect(outcomes.refused).toBeGreaterThan(10);
  }, 120_000);

  it('a token verified before is judged at every use as a fresh one: time checks rerun, a forgery never passes', () => {
    // verifyToken remembers verified signatures (tokens.ts); this compares it, at a later moment,
    // with jsonwebtoken verifying from scratch at that moment, over the edges of exp, nbf and the cap.
    const userId = '00000000-0000-4000-8000-000000000001';
    const edge = fc.oneof(fc.integer({ min: -120, max: 120 }), fc.integer({ min: DAY - 120, max: DAY + 120 }), fc.integer({ min: -DAY, max: 2 * DAY }));
    const cases = fc.record({
      exp: edge,
      nbf: fc.option(edge, { nil: undefined }),
      later: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2 * DAY })),
      forge: fc.oneof({ weight: 4, arbitrary: fc.constant('none') }, fc.constant('signature'), fc.constant('payload')),
    });
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(cases, ({ exp, nbf, later, forge }) => {
        const start = Math.floor(Date.now() / 1000) - 3 * DAY;
        const payload: Record<string, unknown> = { sub: userId, exp: start + exp, ...(nbf !== undefined ? { nbf: start + nbf } : {}) };
        const token = signRaw(payload);
        verifyToken(TEST_SECRET, token, undefined, start * 1000); // remembered when valid then
        const [head, body, signature] = token.split('.');
        const used =
          forge === 'signature'
            ? `${head}.${body}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'AB' : 'AA'}`
            : forge === 'payload'
              ? `${head}.${Buffer.from(JSON.stringify({ ...payload, sub: '00000000-0000-4000-8000-000000000002' })).toString('base64url')}.${signature}`
              : token;
        const at = start + later;
        let expected: string | undefined;
        try {
          const fresh = jwt.verify(used, TEST_SECRET, { algorithms: ['HS256'], clockTolerance: TOLERANCE, clockTimestamp: at }) as jwt.JwtPayload;
          expected = (fresh.exp as number) <= at + DAY + TOLERANCE ? fresh.sub : undefined;
        } catch {
          expected = undefined;
        }
        const got = verifyToken(TEST_SECRET, used, undefined, at * 1000);
        expect(got).toBe(expected);
        if (got) outcomes.accepted += 1;
        else outcomes.refused += 1;
      }),
      { numRuns: 400 },
    );
    expect(outcomes.accepted).toBeGreaterThan(10);
    expect(outcomes.refused).toBeGreaterThan(10);
  });

  it('hub token refuses a --ttl beyond HUB_MAX_TOKEN_TTL, and prints one within it', async () => {
    const user = await f.user();
    const ttl = fc.oneof(fc.integer({ min: 1, max: 48 }).map((h) => [`${h}h`, h * 3600] as const), fc.integer({ min: 1, max: 4 }).map((d) => [`${d}d`, d * DAY] as const));
    await fc.assert(
      fc.asyncProperty(ttl, fc.constantFrom(['12h', 12 * 3600] as const, [undefined, DAY] as const), async ([text, seconds], [max, maxSeconds]) => {
        const env: Record<string, string> = { DATABASE_URL: testDatabaseUrl(), HUB_JWT_SECRET: TEST_SECRET };
        if (max) env.HUB_MAX_TOKEN_TTL = max;
        const run = await runHub(env, 'token', '--email', user.email, '--ttl', text);
        if (seconds <= maxSeconds) {
          expect(run.code).toBe(0);
          expect(verifyToken(TEST_SECRET, run.out.trim(), maxSeconds)).toBe(user.id);
        } else {
          expect(run.code).not.toBe(0);
          expect(run.err).toMatch(/HUB_MAX_TOKEN_TTL/);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
