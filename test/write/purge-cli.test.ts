import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { Session } from '../../src/sessions/session.entity';
import { onFreshDatabase, testDatabaseUrl } from '../harness';
import { expectInvariants } from '../invariants';
import { runHub } from '../cli-runner';

const hub = runHub;

describe('hub purge', () => {
  it('hard-deletes, in batches and with full cascade, the sessions soft-deleted before the age, and prints how many', () =>
    onFreshDatabase(async ({ url, ds, f, audioDir }) => {
      const owner = await f.user();
      const skill = await f.skill();
      const repo = ds.getRepository(Session);
      const old: Session[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await f.session(owner);
        await f.message(s, { audioKey: `audio/old/${i}.ogg`, audioContentType: 'audio/ogg', audioByteSize: 3 });
        await f.link(s, skill);
        await f.nodeSync(s, 'node-a', 'SYNCED' as never);
        await repo.softRemove(s);
        old.push(s);
      }
      const recent = await f.session(owner);
      await f.message(recent);
      await repo.softRemove(recent);
      const live = await f.session(owner);
      await ds.query(`UPDATE messages SET deleted_at = deleted_at - interval '40 days' WHERE session_id = ANY($1)`, [old.map((s) => s.id)]);
      await ds.query(`UPDATE sessions SET deleted_at = deleted_at - interval '40 days' WHERE id = ANY($1)`, [old.map((s) => s.id)]);
      await fs.mkdir(path.join(audioDir, 'audio/old'), { recursive: true });
      for (let i = 0; i < 5; i++) await fs.writeFile(path.join(audioDir, `audio/old/${i}.ogg`), 'ogg');

      const result = await hub({ DATABASE_URL: url, HUB_AUDIO_DIR: audioDir }, 'purge', '--older-than', '30d', '--batch', '2');
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(result.out).toMatch(/^purged 5 sessions deleted before /);
      const remaining = await ds.query('SELECT id FROM sessions ORDER BY id');
      expect(remaining.map((r: { id: string }) => r.id).sort()).toEqual([recent.id, live.id].sort());
      for (const table of ['messages', 'session_skills', 'session_node_sync']) {
        expect(await ds.query(`SELECT 1 FROM ${table} WHERE session_id = ANY($1)`, [old.map((s) => s.id)])).toEqual([]);
      }
      expect(await fs.readdir(path.join(audioDir, 'audio/old'))).toEqual([]);
      await expectInvariants(ds);

      const again = await hub({ DATABASE_URL: url, HUB_AUDIO_DIR: audioDir }, 'purge', '--older-than', '30d');
      expect(again.out).toMatch(/^purged 0 sessions/);
    }));

  it.each([
    [['purge'], '--older-than is required'],
    [['purge', '--older-than', 'last week'], '--older-than must be a duration'],
  ])('prints usage and exits 2 for %j', async (argv, message) => {
    const result = await hub({ DATABASE_URL: testDatabaseUrl() }, ...argv);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});

describe('storage configuration', () => {
  it('accepts HUB_STORAGE_DRIVER=local or s3 and names any other driver as a configuration problem', () => {
    expect(loadConfig({ HUB_STORAGE_DRIVER: 'local' }).storageDriver).toBe('local');
    expect(loadConfig({}).storageDriver).toBe('local');
    expect(() => loadConfig({ HUB_STORAGE_DRIVER: 'gcs' })).toThrow(/HUB_STORAGE_DRIVER must be one of local, s3/);
    expect(() => loadConfig({ HUB_STORAGE_DRIVER: 's3' })).toThrow(/HUB_S3_BUCKET is required/);
  });
});
