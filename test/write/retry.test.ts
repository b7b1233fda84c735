import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { operatorViewer } from '../../src/auth/viewer';
import { lockSession } from '../../src/consistency/locks';
import { heldRow } from '../../src/db/held-rows';
import { createLogger } from '../../src/logger';
import { retriedWrites, writeTransaction } from '../../src/db/write-transaction';
import { Session } from '../../src/sessions/session.entity';
import { LocalAudioStorage } from '../../src/storage/local-storage';
import { UrlSigner } from '../../src/storage/url-signing';
import { useTestServer } from '../harness';


const { t, f } = useTestServer({}, { invariants: true });
const audioDir = path.join(os.tmpdir(), `hub-retry-audio-${randomUUID()}`);
afterAll(() => fs.rm(audioDir, { recursive: true, force: true }));

async function audioFile(): Promise<string> {
  const key = `audio/retry/${randomUUID()}.ogg`;
  await fs.mkdir(path.dirname(path.join(audioDir, key)), { recursive: true });
  await fs.writeFile(path.join(audioDir, key), 'OggS');
  return key;
}

const exists = (key: string) => fs.stat(path.join(audioDir, key)).then(() => true, () => false);

describe('writeTransaction', () => {
  it('retries a deadlocked write whole, and the failed attempt leaves nothing behind', async () => {
    const storage = new LocalAudioStorage(audioDir, 'http://127.0.0.1/audio', new UrlSigner('retry-test-secret-long-enough-for-the-signer'));
    const owner = await f.user();
    const [target, bystander, blocker] = [await f.session(owner), await f.session(owner), await f.session(owner)];
    const [targetKey, bystanderKey] = [await audioFile(), await audioFile()];
    await f.message(target, { audioKey: targetKey, audioContentType: 'audio/ogg', audioByteSize: 4 });
    await f.message(bystander, { audioKey: bystanderKey, audioContentType: 'audio/ogg', audioByteSize: 4 });
    const retriedBefore = retriedWrites['40P01'] ?? 0;

    // A real deadlock: another transaction holds `blocker`; the first attempt purges `bystander`
    // (recording its audio for after commit) and `target`, then waits for `blocker`; the other
    // transaction then waits for `target`. The first attempt waited first, so PostgreSQL's
    // deadlock check (1 s) picks it as the victim.
    const other = t.dataSource.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    await other.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [blocker.id]);
    const attempts: { heldAtStart: boolean }[] = [];
    let firstWaits!: () => void;
    const waiting = new Promise<void>((resolve) => (firstWaits = resolve));
    const write = writeTransaction({ dataSource: t.dataSource, storage, logger: createLogger('silent') }, async (manager) => {
      attempts.push({ heldAtStart: heldRow(manager, Session, target.id) !== undefined });
      if (attempts.length === 1) {
        await manager.remove((await lockSession(manager, operatorViewer(), bystander.id, 'any')).session);
      }
      await manager.remove((await lockSession(manager, operatorViewer(), target.id, 'any')).session);
      if (attempts.length === 1) {
        firstWaits();
        await manager.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [blocker.id]);
      }
      return attempts.length;
    });
    await waiting;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [target.id]); // returns once the victim rolled back
    await other.commitTransaction();
    await other.release();

    expect(await write).toBe(2);
    expect(attempts).toEqual([{ heldAtStart: false }, { heldAtStart: false }]);
    expect(retriedWrites['40P01']).toBe(retriedBefore + 1);
    // The second attempt's purge committed, with its audio removed after the commit...
    expect(await t.dataSource.query('SELECT id FROM sessions WHERE id = $1', [target.id])).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await exists(targetKey)).toBe(false);
    // ...and the first attempt's purge of the bystander is gone with its after-commit list.
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM messages WHERE session_id = $1', [bystander.id])).toEqual([{ n: 1 }]);
    expect(await exists(bystanderKey)).toBe(true);
  });

  it('gives up after its attempts and lets the error through', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    let attempts = 0;
    const storage = new LocalAudioStorage(audioDir, 'http://127.0.0.1/audio', new UrlSigner('retry-test-secret-long-enough-for-the-signer'));
    // A serialization failure raised by PostgreSQL itself on every attempt.
    const write = writeTransaction({ dataSource: t.dataSource, storage, logger: createLogger('silent') }, async (manager) => {
      attempts += 1;
      await manager.query(`DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$`);
    });
    await expect(write).rejects.toThrow('forced');
    expect(attempts).toBe(5);
    expect(await t.dataSource.query('SELECT id FROM sessions WHERE id = $1', [session.id])).toHaveLength(1);
  });
});
