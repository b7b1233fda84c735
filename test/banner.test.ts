/**
 * What `hub serve` prints once it listens (src/cli/prepare-database.ts's printBanner), for each
 * mode: the live dashboard's link with a token that works, the playground's link only where the
 * playground is served (not with HUB_TRUSTED_DOCUMENTS=require, where the banner says it is off),
 * and the embedded PostgreSQL's port when the wanted one was taken.
 */
import { printBanner } from '../src/cli/prepare-database';
import { Database } from '../src/db/database';
import { Role } from '../src/users/user.entity';
import { TEST_SECRET, useTestServer } from './harness';

describe('the start-up banner', () => {
  const { t, f } = useTestServer();

  async function banner(overrides: Partial<typeof t.config>, embedded?: Database['embedded']): Promise<string> {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.join(' ')));
    try {
      const db = { dataSource: t.dataSource, embedded } as Database;
      await printBanner(db, { ...t.config, ...overrides }, TEST_SECRET, t.url.replace(/\/graphql$/, ''));
    } finally {
      log.mockRestore();
    }
    return lines.join('\n');
  }

  it('links the playground and the live dashboard with a working token in development', async () => {
    await f.user({ role: Role.ADMIN });
    const base = t.url.replace(/\/graphql$/, '');
    const text = await banner({});
    expect(text).toContain(`Playground with the token filled in: ${base}/graphql?token=`);
    const token = new RegExp(`Live dashboard: ${base.replace(/[.]/g, '\\.')}/live-dashboard/\\?token=(\\S+)`).exec(text)?.[1];
    expect(token).toBeDefined();
    const me = await t.gql('{ me { role } }', {}, { authorization: `Bearer ${token}` });
    expect(me.data).toEqual({ me: { role: 'ADMIN' } });
    expect((await fetch(`${base}/live-dashboard/`)).status).toBe(200);
    expect(text).not.toContain('Embedded PostgreSQL on port');
  });

  it('says the playground is off, and links none, with HUB_TRUSTED_DOCUMENTS=require', async () => {
    for (const production of [false, true]) {
      const text = await banner({ trustedDocuments: 'require', production });
      expect(text).toContain('Playground: off (HUB_TRUSTED_DOCUMENTS=require');
      expect(text).not.toContain('/graphql?token=');
    }
  });

  it('names the embedded port when the wanted one was taken by another program', async () => {
    const text = await banner({}, { url: 'postgres://x', dataDir: '/x', port: 41234, portTaken: 54329, stop: async () => undefined });
    expect(text).toContain('Embedded PostgreSQL on port 41234: 54329 is taken by another program');
  });
});
