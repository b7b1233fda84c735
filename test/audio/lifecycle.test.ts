import fs from 'node:fs/promises';
import path from 'node:path';
import { AudioUpload } from '../../src/audio-uploads/audio-upload.entity';
import { loadConfig } from '../../src/config';
import { writeTransaction } from '../../src/db/write-transaction';
import { createLogger } from '../../src/logger';
import { createAudioStorage } from '../../src/storage/storage';
import { User } from '../../src/users/user.entity';
import { runHub } from '../cli-runner';
import { onFreshDatabase, TEST_SECRET } from '../harness';
import { expectInvariants } from '../invariants';

const MIGRATION = 'AudioUploads1764600000000';

describe('the audio uploads migration', () => {
  it('binds every existing message key to an attached upload of the session owner, and reverts without touching messages', () =>
    onFreshDatabase(async ({ ds }) => {
      // Back to the schema before this migration (and any later one).
      while ((await ds.query(`SELECT 1 FROM migrations WHERE name = $1`, [MIGRATION])).length > 0) await ds.undoLastMigration();
      const [owner] = await ds.query(`INSERT INTO users (email, display_name) VALUES ('legacy@test.hub', 'Legacy') RETURNING id`);
      const [session] = await ds.query(`INSERT INTO sessions (user_id, title) VALUES ($1, 'Old') RETURNING id`, [owner.id]);
      const insert = (key: string | null, at: string) =>
        ds.query(
          `INSERT INTO messages (session_id, role, content, audio_key, audio_content_type, audio_byte_size, created_at)
           VALUES ($1, 'USER', 'old', $2::varchar, CASE WHEN $2::varchar IS NULL THEN NULL ELSE 'audio/ogg' END,
                   CASE WHEN $2::varchar IS NULL THEN NULL ELSE 42 END, $3) RETURNING id`,
          [session.id, key, at],
        );
      const [first] = await insert('audio/2026/11/shared.ogg', '2026-11-01T00:00:00Z');
      await insert('audio/2026/11/shared.ogg', '2026-11-02T00:00:00Z');
      const [solo] = await insert('audio/2026/11/solo.ogg', '2026-11-03T00:00:00Z');
      await insert(null, '2026-11-04T00:00:00Z');

      await ds.runMigrations();
      const rows = await ds.query(`SELECT key, user_id, session_id, message_id, byte_size, content_type, completed_at IS NOT NULL AS completed FROM audio_uploads ORDER BY key`);
      expect(rows).toEqual([
        { key: 'audio/2026/11/shared.ogg', user_id: owner.id, session_id: session.id, message_id: first.id, byte_size: 42, content_type: 'audio/ogg', completed: true },
        { key: 'audio/2026/11/solo.ogg', user_id: owner.id, session_id: session.id, message_id: solo.id, byte_size: 42, content_type: 'audio/ogg', completed: true },
      ]);
      await expectInvariants(ds);

      while ((await ds.query(`SELECT 1 FROM migrations WHERE name = $1`, [MIGRATION])).length > 0) await ds.undoLastMigration();
      expect(await ds.query(`SELECT to_regclass('audio_uploads') AS t`)).toEqual([{ t: null }]);
      expect(await ds.query(`SELECT count(*)::int AS n FROM messages WHERE audio_key IS NOT NULL`)).toEqual([{ n: 3 }]);
      await ds.runMigrations();
      expect(await ds.query(`SELECT count(*)::int AS n FROM audio_uploads`)).toEqual([{ n: 2 }]);
    }, 1));
});

describe('upload rows at the ORM level', () => {
  it('leave with their user even when the database cascades are off', () =>
    onFreshDatabase(async ({ ds, f, audioDir }) => {
      const [member, admin] = [await f.user(), await f.admin()];
      const session = await f.session(member);
      const adminsSession = await f.session(admin);
      const expiresAt = new Date(Date.now() + 60_000);
      const uploads = ds.getRepository(AudioUpload);
      const mine = `audio/${session.id}/${'1'.repeat(32)}.ogg`;
      const byAdmin = `audio/${session.id}/${'2'.repeat(32)}.ogg`;
      const membersInAdmins = `audio/${adminsSession.id}/${'3'.repeat(32)}.ogg`;
      for (const [key, userId, sessionId] of [[mine, member.id, session.id], [byAdmin, admin.id, session.id], [membersInAdmins, member.id, adminsSession.id]]) {
        await uploads.save(uploads.create({ key, userId, sessionId, contentType: 'audio/ogg', byteSize: 3, expiresAt }));
        await fs.mkdir(path.dirname(path.join(audioDir, key)), { recursive: true });
        await fs.writeFile(path.join(audioDir, key), 'ogg');
      }
      const storage = createAudioStorage(loadConfig({ HUB_AUDIO_DIR: audioDir, HUB_JWT_SECRET: TEST_SECRET }), TEST_SECRET);
      await writeTransaction({ dataSource: ds, storage, logger: createLogger('silent') }, async (manager) => {
        // Foreign keys (and their ON DELETE CASCADE) are triggers: off for this transaction.
        await manager.query(`SET LOCAL session_replication_role = replica`);
        await manager.remove(await manager.findOneByOrFail(User, { id: member.id }));
      });
      expect(await ds.query(`SELECT key FROM audio_uploads ORDER BY key`)).toEqual([]);
      for (const key of [mine, byAdmin, membersInAdmins]) await expect(fs.stat(path.join(audioDir, key))).rejects.toThrow();
      await expectInvariants(ds);
    }));
});

describe('hub gc-audio and hub purge', () => {
  it('remove the expired unattached uploads and their objects, and print how many', () =>
    onFreshDatabase(async ({ url, ds, f, audioDir }) => {
      const member = await f.user();
      const session = await f.session(member);
      const uploads = ds.getRepository(AudioUpload);
      const keys = [0, 1, 2].map((i) => `audio/${session.id}/${String(i).repeat(32)}.ogg`);
      for (const [i, key] of keys.entries()) {
        const expiresAt = new Date(Date.now() + (i < 2 ? -60_000 : 60_000));
        await uploads.save(uploads.create({ key, userId: member.id, sessionId: session.id, contentType: 'audio/ogg', byteSize: 3, expiresAt }));
        await fs.mkdir(path.dirname(path.join(audioDir, key)), { recursive: true });
        await fs.writeFile(path.join(audioDir, key), 'ogg');
      }
      // Staging files: one a killed upload left long ago, one a live body is writing now.
      const staging = path.join(audioDir, '.staging');
      await fs.mkdir(staging, { recursive: true });
      await fs.writeFile(path.join(staging, 'a'.repeat(64)), 'partial');
      const longAgo = new Date(Date.now() - 3_600_000);
      await fs.utimes(path.join(staging, 'a'.repeat(64)), longAgo, longAgo);
      await fs.writeFile(path.join(staging, 'b'.repeat(64)), 'partial');
      const env = { DATABASE_URL: url, HUB_AUDIO_DIR: audioDir };
      const gc = await runHub(env, 'gc-audio', '--batch', '1');
      expect(gc).toMatchObject({ code: 0, out: 'removed 2 expired audio uploads\nremoved 1 abandoned staging file' });
      expect(await fs.readdir(staging)).toEqual(['b'.repeat(64)]);
      await expect(fs.stat(path.join(audioDir, keys[0]))).rejects.toThrow();
      await expect(fs.stat(path.join(audioDir, keys[1]))).rejects.toThrow();
      await expect(fs.stat(path.join(audioDir, keys[2]))).resolves.toBeTruthy();
      await ds.query(`UPDATE audio_uploads SET expires_at = now() - interval '1 minute'`);
      const purge = await runHub(env, 'purge', '--older-than', '30d');
      expect(purge.code).toBe(0);
      expect(purge.out.split('\n')[1]).toBe('removed 1 expired audio upload');
      expect(await ds.query(`SELECT key FROM audio_uploads`)).toEqual([]);
      expect((await runHub(env, 'gc-audio', '--batch', 'x')).code).toBe(2);
    }));
});

describe('audio configuration', () => {
  const s3 = { HUB_STORAGE_DRIVER: 's3', HUB_S3_BUCKET: 'hub-audio' };

  it('reads the S3 driver settings, with defaults', () => {
    expect(loadConfig(s3).s3).toEqual({ region: 'us-east-1', bucket: 'hub-audio', forcePathStyle: false, endpoint: undefined, accessKeyId: undefined, secretAccessKey: undefined });
    const full = loadConfig({
      ...s3,
      HUB_S3_ENDPOINT: 'http://127.0.0.1:9000/',
      HUB_S3_REGION: 'eu-west-3',
      HUB_S3_ACCESS_KEY_ID: 'id',
      HUB_S3_SECRET_ACCESS_KEY: 'secret',
      HUB_S3_FORCE_PATH_STYLE: 'true',
    }).s3;
    expect(full).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'eu-west-3', bucket: 'hub-audio', accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: true });
    expect(loadConfig({}).s3).toBeUndefined();
  });

  it.each([
    [{ ...s3, HUB_S3_BUCKET: '' }, /HUB_S3_BUCKET is required/],
    [{ ...s3, HUB_S3_ACCESS_KEY_ID: 'id' }, /set together/],
    [{ ...s3, HUB_S3_ENDPOINT: 'ftp://x' }, /HUB_S3_ENDPOINT must be an http/],
    [{ ...s3, HUB_S3_FORCE_PATH_STYLE: 'yes' }, /HUB_S3_FORCE_PATH_STYLE must be true or false/],
    [{ HUB_AUDIO_MAX_BYTES: '0' }, /HUB_AUDIO_MAX_BYTES must be a whole number from 1/],
    [{ HUB_AUDIO_MAX_BYTES: '2147483648' }, /HUB_AUDIO_MAX_BYTES must be a whole number/],
    [{ HUB_AUDIO_CONTENT_TYPES: 'audio/ogg,video/mp4' }, /"video\/mp4" is not audio/],
  ])('names a bad setting: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('defaults to 25 MiB and every audio/* type', () => {
    expect(loadConfig({})).toMatchObject({ audioMaxBytes: 26_214_400, audioContentTypes: ['audio/*'] });
    expect(loadConfig({ HUB_AUDIO_CONTENT_TYPES: 'Audio/OGG, audio/mpeg' }).audioContentTypes).toEqual(['audio/ogg', 'audio/mpeg']);
  });
});
