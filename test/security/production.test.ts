import { factories } from '../factories';
import { codes, startTestServer, TestServer } from '../harness';
import { User } from '../../src/users/user.entity';

describe('production mode', () => {
  let t: TestServer;
  let user: User;
  beforeAll(async () => {
    t = await startTestServer({ NODE_ENV: 'production' });
    user = await factories(t.dataSource).user();
  });
  afterAll(() => t.close());

  it('refuses introspection', async () => {
    const result = await t.gql('{ __schema { types { name } } }', {}, { as: user });
    expect(result.data).toBeUndefined();
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0].message).toMatch(/introspection/i);
  });

  it('hides field suggestions', async () => {
    const result = await t.gql('{ me { emai } }', {}, { as: user });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(result.errors)).not.toMatch(/Did you mean/);
  });

  it('answers an unreachable database with a clear 503, no SQL and no stack', async () => {
    const other = await startTestServer({ NODE_ENV: 'production' });
    await other.dataSource.destroy();
    try {
      const result = await other.gql('{ me { id } }', {}, { as: user });
      expect(result.status).toBe(503);
      expect(codes(result)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(result.errors![0].message).toBe('The database is unavailable; try again shortly');
      expect(JSON.stringify(result.errors)).not.toMatch(/stack|SELECT|pool|Error:/i);
    } finally {
      await other.server.close();
    }
  });
});

describe('development mode', () => {
  it('allows introspection, and production can opt in with HUB_INTROSPECTION=true', async () => {
    for (const env of [{}, { NODE_ENV: 'production', HUB_INTROSPECTION: 'true' }] as Record<string, string>[]) {
      const t = await startTestServer(env);
      try {
        const user = await factories(t.dataSource).user();
        const result = await t.gql('{ __schema { queryType { name } } }', {}, { as: user });
        expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      } finally {
        await t.close();
      }
    }
  });
});
