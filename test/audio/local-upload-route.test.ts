import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { UrlSigner } from '../../src/storage/url-signing';
import { codes, TEST_SECRET } from '../harness';
import { bytesOf, CREATE_UPLOAD, headersOf, reachable, send, Upload, upload, useAudioServer } from './support';

/**
 * The local driver's upload endpoint (PUT /audio/<key>): signature, expiry, exact size and
 * content type are checked; every bad upload is a coded 4xx JSON error and leaves nothing behind
 * (no object, no staging file, the upload row still pending). Object stores check their own
 * presigned PUTs (s3rver does not verify signatures, so these checks are covered here).
 */
const suite = useAudioServer('local', { HUB_AUDIO_MAX_BYTES: '4096' });

async function pending(size = 100): Promise<{ made: Upload; url: string }> {
  const { t, f } = suite();
  const member = await f.user();
  const session = await f.session(member);
  const made = await upload(t, member, session.id, bytesOf(size), 'audio/ogg', false);
  return { made, url: reachable(t, made.uploadUrl) };
}

/** Nothing of the upload is on disk (no object, no type file, nothing staged) and its row is still pending. */
async function expectNothingBehind(key: string) {
  const { t, audioDir } = suite();
  const files = await fs.readdir(audioDir!, { recursive: true });
  expect(files.filter((f) => f.includes(path.basename(key)))).toEqual([]);
  expect(await fs.readdir(path.join(audioDir!, '.staging')).catch(() => [])).toEqual([]);
  const [row] = await t.dataSource.query('SELECT completed_at, message_id FROM audio_uploads WHERE key = $1', [key]);
  expect(row).toEqual({ completed_at: null, message_id: null });
}

function expectRefused(answer: { status: number; json(): any }, status: number, code: string) {
  expect({ status: answer.status, body: answer.json() }).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
}

describe('PUT /audio/<key> on the local driver', () => {
  it('stores exactly the signed bytes once; a replay is 409 and changes nothing', async () => {
    const { made, url } = await pending(100);
    const bytes = bytesOf(100);
    const ok = await send('PUT', url, headersOf(made), bytes);
    expect({ status: ok.status, body: ok.json() }).toEqual({ status: 200, body: { key: made.key, contentType: 'audio/ogg', byteSize: 100 } });
    const replay = await send('PUT', url, headersOf(made), Buffer.alloc(100, 1));
    expectRefused(replay, 409, 'UPLOAD_COMPLETED');
    expect(await fs.readFile(path.join(suite().audioDir!, made.key))).toEqual(bytes);
  });

  it.each([
    ['no signature', (u: URL) => u.searchParams.delete('signature'), 403, 'SIGNATURE_INVALID'],
    ['a tampered signature', (u: URL) => u.searchParams.set('signature', 'A'.repeat(43)), 403, 'SIGNATURE_INVALID'],
    ['a later expiry', (u: URL) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 1)), 403, 'SIGNATURE_INVALID'],
    ['another key', (u: URL) => (u.pathname = u.pathname.replace(/[0-9a-f]{32}/, 'f'.repeat(32))), 403, 'SIGNATURE_INVALID'],
    ['a traversal path', (u: URL) => (u.pathname = '/audio/..%2fjwt-secret'), 403, 'SIGNATURE_INVALID'],
  ])('refuses %s', async (_name, change, status, code) => {
    const { made, url } = await pending();
    const target = new URL(url);
    change(target);
    expectRefused(await send('PUT', target.toString(), headersOf(made), bytesOf(100)), status, code);
    await expectNothingBehind(made.key);
  });

  it.each([
    ['another content type', { 'Content-Type': 'audio/mpeg' }, 100, 403, 'SIGNATURE_INVALID'],
    ['another length', { 'Content-Length': '99' }, 99, 403, 'SIGNATURE_INVALID'],
    ['a length over HUB_AUDIO_MAX_BYTES', { 'Content-Length': '5000' }, 5000, 403, 'SIGNATURE_INVALID'],
  ])('refuses a body with %s than signed', async (_name, headers, size, status, code) => {
    const { made, url } = await pending();
    expectRefused(await send('PUT', url, { ...headersOf(made), ...headers }, bytesOf(size)), status, code);
    await expectNothingBehind(made.key);
  });

  it('refuses a body without Content-Length (chunked) with 411', async () => {
    const { made, url } = await pending();
    const headers = { 'Content-Type': 'audio/ogg', 'Transfer-Encoding': 'chunked' };
    expectRefused(await send('PUT', url, headers, bytesOf(100)), 411, 'LENGTH_REQUIRED');
    await expectNothingBehind(made.key);
  });

  it('refuses an expired URL, and a pending upload whose deadline has passed, with UPLOAD_EXPIRED', async () => {
    const { t } = suite();
    const { made, url } = await pending();
    // A genuine signature whose expiry has passed.
    const expires = Math.floor(Date.now() / 1000) - 5;
    const signature = new UrlSigner(TEST_SECRET).signUpload({ key: made.key, contentType: 'audio/ogg', byteSize: 100, expires });
    const past = new URL(url);
    past.searchParams.set('expires', String(expires));
    past.searchParams.set('signature', signature);
    expectRefused(await send('PUT', past.toString(), headersOf(made), bytesOf(100)), 403, 'UPLOAD_EXPIRED');
    await t.dataSource.query(`UPDATE audio_uploads SET expires_at = now() - interval '1 second' WHERE key = $1`, [made.key]);
    expectRefused(await send('PUT', url, headersOf(made), bytesOf(100)), 403, 'UPLOAD_EXPIRED');
    await expectNothingBehind(made.key);
  });

  it('refuses a size over HUB_AUDIO_MAX_BYTES at createAudioUpload, and a signed one over it at the PUT with 413', async () => {
    const { t, f } = suite();
    const member = await f.user();
    const session = await f.session(member);
    const big = await t.gql(CREATE_UPLOAD, { input: { sessionId: session.id, contentType: 'audio/ogg', byteSize: 4097 } }, { as: member });
    expect(codes(big)).toEqual(['BAD_USER_INPUT']);
    expect(big.errors![0].extensions!.validation).toEqual([{ field: 'input.byteSize', message: 'must be at most 4096 bytes' }]);
    const key = `audio/${session.id}/${'a'.repeat(32)}.ogg`;
    const expires = Math.floor(Date.now() / 1000) + 600;
    const signature = new UrlSigner(TEST_SECRET).signUpload({ key, contentType: 'audio/ogg', byteSize: 5000, expires });
    const url = reachable(t, `${t.config.publicUrl}/audio/${key}?expires=${expires}&signature=${signature}`);
    expectRefused(await send('PUT', url, { 'Content-Type': 'audio/ogg', 'Content-Length': '5000' }, bytesOf(5000)), 413, 'TOO_LARGE');
  });

  it('refuses a content type outside HUB_AUDIO_CONTENT_TYPES or not audio at createAudioUpload', async () => {
    const { t, f } = suite();
    const member = await f.user();
    const session = await f.session(member);
    const video = await t.gql(CREATE_UPLOAD, { input: { sessionId: session.id, contentType: 'video/mp4', byteSize: 10 } }, { as: member });
    expect(video.errors![0].extensions!.validation).toEqual([{ field: 'input.contentType', message: expect.any(String) }]);
  });

  it('answers 404 for the upload of a purged session and leaves nothing behind', async () => {
    const { t, f } = suite();
    const { made, url } = await pending();
    const [row] = await t.dataSource.query('SELECT session_id FROM audio_uploads WHERE key = $1', [made.key]);
    const admin = await f.admin();
    expect((await t.gql('mutation($id: ID!) { purgeSession(id: $id) }', { id: row.session_id }, { as: admin })).errors).toBeUndefined();
    expectRefused(await send('PUT', url, headersOf(made), bytesOf(100)), 404, 'UPLOAD_NOT_FOUND');
    expect(await fs.readdir(path.join(suite().audioDir!, '.staging')).catch(() => [])).toEqual([]);
  });

  it('drops a body cut short: no object, nothing staged, the upload still pending', async () => {
    const { made, url } = await pending(3000);
    await send('PUT', url, headersOf(made), (req) => {
      req.write(bytesOf(1000));
      setTimeout(() => req.destroy(), 100);
    }).catch(() => undefined);
    // The server notices the abort asynchronously.
    for (let i = 0; i < 50; i++) {
      if ((await fs.readdir(path.join(suite().audioDir!, '.staging')).catch(() => [])).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expectNothingBehind(made.key);
    // And the URL still works for the real bytes afterwards.
    expect((await send('PUT', url, headersOf(made), bytesOf(3000))).status).toBe(200);
  });

  it('answers every random request with a coded JSON 4xx (or 200 for exactly the signed one) and leaves nothing behind', async () => {
    const CODES = ['SIGNATURE_INVALID', 'UPLOAD_EXPIRED', 'UPLOAD_NOT_FOUND', 'UPLOAD_COMPLETED', 'LENGTH_REQUIRED', 'TOO_LARGE', 'INCOMPLETE_BODY'];
    const printable = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789/;=._-+ %'.split('')), maxLength: 40 });
    const request = fc.record({
      path: fc.oneof(fc.constant('signed'), printable.map((p) => `/audio/${encodeURI(p)}`)),
      expires: fc.oneof(fc.constant('signed'), fc.constant(undefined), fc.stringMatching(/^-?[0-9]{0,13}$/)),
      signature: fc.oneof(fc.constant('signed'), fc.constant(undefined), fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/)),
      contentType: fc.oneof(fc.constant('signed'), fc.constant(undefined), printable),
      size: fc.oneof(fc.constant(64), fc.integer({ min: 0, max: 200 })),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const { made, url } = await pending(64);
        const signed = new URL(url);
        const target = new URL(r.path === 'signed' ? url : `${signed.origin}${r.path}`);
        target.search = '';
        const param = (name: string, value: string | undefined) => {
          const v = value === 'signed' ? signed.searchParams.get(name)! : value;
          if (v !== undefined) target.searchParams.set(name, v);
        };
        param('expires', r.expires);
        param('signature', r.signature);
        const headers: Record<string, string> = { 'Content-Length': String(r.size) };
        const type = r.contentType === 'signed' ? 'audio/ogg' : r.contentType;
        if (type !== undefined) headers['Content-Type'] = type;
        const answer = await send('PUT', target.toString(), headers, bytesOf(r.size));
        if (answer.status === 200) {
          expect(r).toMatchObject({ path: 'signed', expires: 'signed', signature: 'signed', contentType: 'signed', size: 64 });
          expect(await fs.readFile(path.join(suite().audioDir!, made.key))).toEqual(bytesOf(64));
        } else {
          expect(answer.status).toBeGreaterThanOrEqual(400);
          expect(answer.status).toBeLessThan(500);
          expect(CODES).toContain(answer.json().error.code);
          await expectNothingBehind(made.key);
        }
      }),
      { numRuns: 80 },
    );
    expect(await fs.readdir(path.join(suite().audioDir!, '.staging')).catch(() => [])).toEqual([]);
  }, 120_000);
});
