import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { expectInvariants } from '../invariants';
import { codes, onFreshDatabase, startTestServer, TestServer } from '../harness';
import { bytesOf, CREATE_UPLOAD, DRIVERS, headersOf, reachable, send, upload, useAudioServer } from './support';

/**
 * The disk one requester can hold (issue 21, item 5): declared bytes of unattached uploads per
 * viewer (HUB_AUDIO_MAX_PENDING_BYTES, counted in the database, so concurrent requests to two
 * servers cannot pass it either), one body per upload URL at a time, a minimum transfer rate,
 * staging files removed at start and by the server's own schedule, with expired uploads.
 */
const MAX_PENDING = 1000;
const LIMIT_ENV = { HUB_AUDIO_MAX_PENDING_BYTES: String(MAX_PENDING), HUB_AUDIO_UPLOAD_STALL_SECONDS: '1', HUB_AUDIO_MIN_UPLOAD_RATE: '2000' };

function expectQuotaRefusal(result: Awaited<ReturnType<TestServer['gql']>>) {
  expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  expect(result.status).toBe(429);
  expect(result.errors![0].extensions).toMatchObject({
    limit: 'HUB_AUDIO_MAX_PENDING_BYTES',
    reason: 'PENDING_UPLOAD_BYTES',
    validation: [{ field: 'input.byteSize', message: expect.any(String) }],
  });
}

describe.each(DRIVERS)('pending upload bytes per viewer on the %s driver', (driver) => {
  const suite = useAudioServer(driver, LIMIT_ENV);
  afterEach(() => expectInvariants(suite().t.dataSource));

  it('accepts an upload exactly while the viewer\'s unattached, unexpired bytes stay within the quota', async () => {
    const { t, f } = suite();
    // A model: each step creates an upload, attaches one, or lets one expire.
    const step = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), size: fc.integer({ min: 1, max: 600 }) }),
      fc.record({ kind: fc.constantFrom('attach' as const, 'expire' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const member = await f.user();
        const session = await f.session(member);
        const pending: { key: string; size: number }[] = [];
        for (const s of steps) {
          if (s.kind === 'create') {
            const held = pending.reduce((sum, p) => sum + p.size, 0);
            const result = await t.gql(CREATE_UPLOAD, { input: { sessionId: session.id, contentType: 'audio/ogg', byteSize: s.size } }, { as: member });
            if (held + s.size <= MAX_PENDING) {
              expect(result.errors).toBeUndefined();
              pending.push({ key: result.data.createAudioUpload.key, size: s.size });
            } else {
              expectQuotaRefusal(result);
            }
          } else if (pending.length > 0) {
            const [gone] = pending.splice(s.pick % pending.length, 1);
            if (s.kind === 'expire') {
              await t.dataSource.query(`UPDATE audio_uploads SET expires_at = now() - interval '1 second' WHERE key = $1`, [gone.key]);
            } else {
              // Attached as postMessage attaches: the message names the key, the upload the message.
              const message = await f.message(session, { audioKey: gone.key, audioContentType: 'audio/ogg', audioByteSize: gone.size });
              await t.dataSource.query('UPDATE audio_uploads SET message_id = $2, completed_at = now() WHERE key = $1', [gone.key, message.id]);
            }
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('pending upload bytes across two servers', () => {
  let second: TestServer;
  const suite = useAudioServer('local', LIMIT_ENV);
  beforeAll(async () => {
    second = await startTestServer({ ...LIMIT_ENV, HUB_AUDIO_DIR: suite().audioDir! });
  });
  afterAll(() => second?.close());

  it('admits exactly what fits when one viewer floods both at once, and counts each refusal', async () => {
    const { t, f } = suite();
    const metric = async () => {
      const text = await (await fetch(t.url.replace('/graphql', '/metrics'))).text();
      return Number(/hub_limit_refusals_total\{limit="HUB_AUDIO_MAX_PENDING_BYTES"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 50, max: 400 }), fc.integer({ min: 6, max: 20 }), async (size, count) => {
        const member = await f.user();
        const session = await f.session(member);
        const before = await metric();
        const results = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            (i % 2 ? second : t).gql(CREATE_UPLOAD, { input: { sessionId: session.id, contentType: 'audio/ogg', byteSize: size } }, { as: member }),
          ),
        );
        const accepted = results.filter((r) => !r.errors).length;
        expect(accepted).toBe(Math.min(count, Math.floor(MAX_PENDING / size)));
        for (const refused of results.filter((r) => r.errors)) expectQuotaRefusal(refused);
        const [{ bytes }] = await t.dataSource.query('SELECT sum(byte_size)::int AS bytes FROM audio_uploads WHERE user_id = $1', [member.id]);
        expect(bytes).toBe(accepted * size);
        // This server's own refusals are in its metric (the other's in its own).
        const refusedHere = results.filter((r, i) => r.errors && i % 2 === 0).length;
        expect((await metric()) - before).toBe(refusedHere);
      }),
      { numRuns: 8 },
    );
  });
});

describe('upload bodies on the local driver', () => {
  const suite = useAudioServer('local', { ...LIMIT_ENV, HUB_AUDIO_MAX_PENDING_BYTES: '1000000' });
  const staged = () => fs.readdir(path.join(suite().audioDir!, '.staging')).catch(() => [] as string[]);

  async function pendingUpload(size: number) {
    const { t, f } = suite();
    const member = await f.user();
    const session = await f.session(member);
    const made = await upload(t, member, session.id, bytesOf(size), 'audio/ogg', false);
    return { made, url: reachable(t, made.uploadUrl) };
  }

  async function until(condition: () => Promise<boolean>) {
    for (let i = 0; i < 500 && !(await condition()); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it('receives one body per upload URL at a time: the others are refused before their bytes are read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 900 }), async (others, size) => {
        const { made, url } = await pendingUpload(size);
        const bytes = bytesOf(size);
        let finish!: () => void;
        const first = send('PUT', url, headersOf(made), (req) => {
          req.write(bytes.subarray(0, 1));
          finish = () => req.end(bytes.subarray(1));
        });
        await until(async () => (await staged()).length > 0);
        const refused = await Promise.all(Array.from({ length: others }, () => send('PUT', url, headersOf(made), Buffer.alloc(size, 7))));
        for (const answer of refused) {
          expect({ status: answer.status, code: answer.json().error.code }).toEqual({ status: 409, code: 'UPLOAD_IN_PROGRESS' });
        }
        expect(await staged()).toHaveLength(1);
        finish();
        expect((await first).status).toBe(200);
        expect(await fs.readFile(path.join(suite().audioDir!, made.key))).toEqual(bytes);
        expect(await staged()).toEqual([]);
      }),
      { numRuns: 6 },
    );
  });

  it('cuts a body slower than HUB_AUDIO_MIN_UPLOAD_RATE with 408 and removes its partial file; a paced one completes', async () => {
    const { t } = suite();
    const { made, url } = await pendingUpload(5000);
    // One byte, then nothing: the first stall window brings 1 of the 2,000 bytes it needs.
    const slow = await send('PUT', url, headersOf(made), (req) => req.write(bytesOf(1)));
    expect({ status: slow.status, code: slow.json().error.code }).toEqual({ status: 408, code: 'UPLOAD_TOO_SLOW' });
    expect(await staged()).toEqual([]);
    const [row] = await t.dataSource.query('SELECT completed_at FROM audio_uploads WHERE key = $1', [made.key]);
    expect(row).toEqual({ completed_at: null });
    // 2,500 bytes per stall window (above the 2,000 asked) completes, across several windows.
    const bytes = bytesOf(5000);
    const paced = await send('PUT', url, headersOf(made), (req) => {
      let sent = 0;
      const timer = setInterval(() => {
        req.write(bytes.subarray(sent, sent + 500));
        sent += 500;
        if (sent >= bytes.length) {
          clearInterval(timer);
          req.end();
        }
      }, 200);
    });
    expect(paced.status).toBe(200);
  });
});

describe('staging files and expired uploads, removed by the server itself', () => {
  it('removes abandoned staging files at start, and expired unattached uploads on its schedule', () =>
    onFreshDatabase(async ({ url, f }) => {
      const audioDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-janitor-'));
      const staging = path.join(audioDir, '.staging');
      await fs.mkdir(staging, { recursive: true });
      const left = path.join(staging, 'c'.repeat(64));
      await fs.writeFile(left, 'partial body of a killed upload');
      const longAgo = new Date(Date.now() - 3_600_000);
      await fs.utimes(left, longAgo, longAgo);
      const t = await startTestServer({ DATABASE_URL: url, HUB_AUDIO_DIR: audioDir, HUB_AUDIO_GC_INTERVAL_SECONDS: '1' });
      try {
        expect(await fs.readdir(staging)).toEqual([]);
        const member = await f.user();
        const session = await f.session(member);
        const [expired, live] = [await upload(t, member, session.id, bytesOf(10)), await upload(t, member, session.id, bytesOf(10))];
        await t.dataSource.query(`UPDATE audio_uploads SET expires_at = now() - interval '1 second' WHERE key = $1`, [expired.key]);
        const keys = async () => (await t.dataSource.query('SELECT key FROM audio_uploads ORDER BY key')).map((r: { key: string }) => r.key);
        // The row goes in the collector's transaction and the file after its commit, so wait for both.
        const fileGone = () => fs.stat(path.join(audioDir, expired.key)).then(() => false, () => true);
        for (let i = 0; i < 100 && ((await keys()).includes(expired.key) || !(await fileGone())); i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(await keys()).toEqual([live.key]);
        expect(await fileGone()).toBe(true);
        await expect(fs.stat(path.join(audioDir, live.key))).resolves.toBeTruthy();
      } finally {
        await t.close();
        await fs.rm(audioDir, { recursive: true, force: true });
      }
    }));
});
