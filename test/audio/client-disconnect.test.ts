import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { CLIENT_LEFT } from '../../src/http/client-errors';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { bytesOf, headersOf, reachable, send, upload } from './support';

/**
 * A client that leaves in the middle of `PUT /audio/<key>` (issue 21, item 7): its socket reset
 * or closed is the client's doing, not a database outage and not a server fault. The server logs
 * it once at info level (CLIENT_LEFT), never a warning or an error, and keeps nothing of the body.
 * Before, a reset (ECONNRESET) was logged as "database unavailable during an audio upload".
 */
interface LogLine {
  level: number;
  msg: string;
  path?: string;
}
const lines: LogLine[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  }),
);

let t: TestServer;
let audioDir: string;

beforeAll(async () => {
  audioDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-audio-left-'));
  // A one-second stall window: a body that stops coming is noticed within it (a reset socket may
  // show only as a stalled body).
  t = await startTestServer({ HUB_AUDIO_DIR: audioDir, HUB_AUDIO_UPLOAD_STALL_SECONDS: '1' }, { logger });
});
afterAll(async () => {
  await t?.close();
  await fs.rm(audioDir, { recursive: true, force: true });
});

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('logs a client leaving mid-body at info, never as a database outage or an error, and keeps nothing', async () => {
  const f = factories(t.dataSource);
  const member = await f.user();
  const session = await f.session(member);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: 64 * 1024 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.constantFrom('reset', 'close'), async (size, part, how) => {
      const made = await upload(t, member, session.id, bytesOf(size), 'audio/ogg', false);
      const before = lines.length;
      const answer = send('PUT', reachable(t, made.uploadUrl), headersOf(made), (req) => {
        req.write(bytesOf(size).subarray(0, Math.max(1, Math.floor(size * part))), () => {
          if (how === 'reset') req.socket?.resetAndDestroy();
          else req.destroy();
        });
      });
      // A destroyed request may never settle (no response, no 'error'): nothing waits for it.
      answer.catch(() => undefined);
      await until(() => lines.slice(before).some((l) => l.msg === CLIENT_LEFT && l.path?.startsWith('/audio/')), 'the server to see the client leave');
      expect(lines.slice(before).filter((l) => l.level >= 40)).toEqual([]);
      await until(async () => (await fs.readdir(path.join(audioDir, '.staging')).catch(() => [])).length === 0, 'nothing staged');
      const [row] = await t.dataSource.query('SELECT completed_at FROM audio_uploads WHERE key = $1', [made.key]);
      expect(row).toEqual({ completed_at: null });
    }),
    { numRuns: 8 },
  );
}, 60_000);
