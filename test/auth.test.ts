import jwt from 'jsonwebtoken';
import { codes, TEST_SECRET, useTestServer } from './harness';

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
    expect(await response.json()).toEqual({ status: 'ready' });
  });
});
