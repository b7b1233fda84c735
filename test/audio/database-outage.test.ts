import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { factories, Factories } from '../factories';
import { startTestServer, testDatabaseUrl, TestServer } from '../harness';
import { PgProxy, startPgProxy } from '../support/pg-proxy';
import { bytesOf, headersOf, reachable, send, upload } from './support';

/**
 * `PUT /audio/<key>` while the database is unreachable (issue 22, item 4): whether it is gone
 * before the request or goes away while the body streams in, the answer is 503 `UNAVAILABLE`
 * with `retry-after` (as /graphql answers 503), never 500; nothing is kept, and once the database
 * is back the same URL completes. The server reaches PostgreSQL through a relay this test cuts.
 */
let proxy: PgProxy;
let t: TestServer;
let direct: DataSource;
let f: Factories;
let audioDir: string;

beforeAll(async () => {
  proxy = await startPgProxy(testDatabaseUrl());
  audioDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-audio-outage-'));
  t = await startTestServer({ DATABASE_URL: proxy.url, HUB_AUDIO_DIR: audioDir });
  direct = createDataSource({ url: testDatabaseUrl(), poolSize: 2 });
  await direct.initialize();
  f = factories(direct);
});
afterAll(async () => {
  await proxy.restore().catch(() => undefined);
  await t?.close();
  await direct?.destroy();
  await proxy?.close();
  await fs.rm(audioDir, { recursive: true, force: true });
});

const staged = () => fs.readdir(path.join(audioDir, '.staging')).catch(() => [] as string[]);

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('answers 503 with retry-after, keeps nothing, and completes once the database is back', async () => {
  const member = await f.user();
  const session = await f.session(member);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('before the request', 'while the body streams'), fc.integer({ min: 2, max: 64 * 1024 }), async (moment, size) => {
      const made = await upload(t, member, session.id, bytesOf(size), 'audio/ogg', false);
      const url = reachable(t, made.uploadUrl);
      const bytes = bytesOf(size);
      let answer;
      if (moment === 'before the request') {
        await proxy.cut();
        answer = await send('PUT', url, headersOf(made), bytes);
      } else {
        const half = Math.floor(size / 2);
        answer = await send('PUT', url, headersOf(made), (req) => {
          req.write(bytes.subarray(0, half));
          // The row was read and the body is streaming to disk: now the database goes away.
          void until(async () => (await staged()).length > 0, 'the staging file')
            .then(() => proxy.cut())
            .then(() => req.end(bytes.subarray(half)));
        });
      }
      const graphql = await t.gql('{ me { id } }', {}, { as: member });
      await proxy.restore();
      expect({ status: answer.status, retryAfter: answer.headers['retry-after'], body: answer.json() }).toEqual({
        status: 503,
        retryAfter: '5',
        body: { error: { code: 'UNAVAILABLE', message: 'The database is unavailable; try again shortly' } },
      });
      expect(graphql.status).toBe(503);
      expect(await staged()).toEqual([]);
      const [row] = await direct.query('SELECT completed_at FROM audio_uploads WHERE key = $1', [made.key]);
      expect(row).toEqual({ completed_at: null });
      const again = await send('PUT', url, headersOf(made), bytes);
      expect(again.status).toBe(200);
    }),
    { numRuns: 8, examples: [['before the request', 100], ['while the body streams', 100]] },
  );
});
