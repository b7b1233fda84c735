import fs from 'node:fs/promises';
import { validateHeaderValue } from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import { codes, invalidFields } from '../harness';
import { bytesOf, CREATE_UPLOAD, headersOf, reachable, send, Upload, upload, useAudioServer } from './support';

/**
 * Content types are RFC 9110 media types (issue 22, item 5): what createAudioUpload accepts can
 * be sent back as the upload's `Content-Type` header and completes; anything with a control,
 * line-break, bidi or other non-ASCII character, or whitespace where HTTP would strip or fold
 * it, is BAD_USER_INPUT on `input.contentType` with no upload row. Downloads (issue 21, item 7)
 * never let a browser treat uploaded bytes as anything but audio or opaque bytes.
 */
const suite = useAudioServer('local', { HUB_AUDIO_CONTENT_TYPES: 'audio/*' });

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const RESTRICTED = '!#$&^_.+-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const QDTEXT = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => c !== '"' && c !== '\\');

const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 8 });
const quoted = fc
  .array(fc.oneof(fc.constantFrom(...QDTEXT, '\t'), fc.constantFrom('\\"', '\\\\', '\\a')), { maxLength: 8 })
  .map((parts) => `"${parts.join('')}"`);
const ows = fc.constantFrom('', ' ', '\t', '  ');
const parameter = fc.tuple(ows, ows, token, fc.oneof(token, quoted)).map(([a, b, name, value]) => `${a};${b}${name}=${value}`);
/** RFC 9110 §8.3.1 `audio/<subtype> *( OWS ";" OWS parameter )`, the subtype in RFC 6838's shape. */
const mediaType = fc
  .tuple(
    fc.constantFrom('audio', 'AUDIO', 'Audio'),
    fc.constantFrom(...ALNUM),
    fc.string({ unit: fc.constantFrom(...RESTRICTED), maxLength: 10 }),
    fc.array(parameter, { maxLength: 3 }),
  )
  .map(([type, first, rest, params]) => `${type}/${first}${rest}${params.join('')}`)
  .filter((value) => value.length <= 127);

/** Characters no media type may hold: C0 controls but tab, DEL, C1, line and paragraph
 * separators, bidi controls, BOM, NBSP, and any other character beyond ASCII. */
const HOSTILE = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\t'),
  '\x7f', '\x85', '\u00a0', '\u2028', '\u2029', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
  '\u2066', '\u2067', '\u2068', '\u2069', '\u061c', '\ufeff', '\u3000', 'İ', 'é', '\u{1f3b5}',
];
const hostile = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => /[^\t\x20-\x7e]/.test(c)));

async function owner() {
  const { f } = suite();
  const member = await f.user();
  return { member, session: await f.session(member) };
}

async function uploadRows(sessionId: string): Promise<number> {
  const [{ n }] = await suite().t.dataSource.query('SELECT count(*)::int AS n FROM audio_uploads WHERE session_id = $1', [sessionId]);
  return n;
}

describe('audio content types (RFC 9110)', () => {
  it('accepts every RFC 9110 audio media type, and the upload completes with it as the Content-Type header', async () => {
    const { t } = suite();
    const { member, session } = await owner();
    await fc.assert(
      fc.asyncProperty(mediaType, async (contentType) => {
        const made = await upload(t, member, session.id, bytesOf(8), contentType, false);
        expect(headersOf(made)['Content-Type']).toBe(contentType);
        expect(() => validateHeaderValue('content-type', contentType)).not.toThrow();
        const put = await send(made.method, reachable(t, made.uploadUrl), headersOf(made), bytesOf(8));
        expect({ status: put.status, contentType: put.json().contentType }).toEqual({ status: 200, contentType });
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a media type with any control, line-break, bidi or non-ASCII character, wherever it sits', async () => {
    const { t } = suite();
    const { member, session } = await owner();
    await fc.assert(
      fc.asyncProperty(mediaType, hostile, fc.nat(), async (valid, bad, at) => {
        const position = at % (valid.length + 1);
        const contentType = valid.slice(0, position) + bad + valid.slice(position);
        const result = await t.gql(CREATE_UPLOAD, { input: { sessionId: session.id, contentType, byteSize: 8 } }, { as: member });
        expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        expect(invalidFields(result)).toEqual(['input.contentType']);
      }),
      { numRuns: 150, examples: [['audio/ogg; codecs=opus', '\n', 10], ['audio/ogg; codecs=opus', '\u2028', 10], ['audio/ogg', '\u00a0', 9]] },
    );
    expect(await uploadRows(session.id)).toBe(0);
  });

  it('accepts a full-unicode string only when it is a sendable audio media type', async () => {
    const { t } = suite();
    const { member, session } = await owner();
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `audio/${s}`),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.tuple(mediaType, fc.constantFrom(' ', '\t', ';', '; ', '=', '"', ';x', ';x=', '/x', ' x')).map(([v, tail]) => v + tail),
    );
    await fc.assert(
      fc.asyncProperty(anyString, async (contentType) => {
        const result = await t.gql(CREATE_UPLOAD, { input: { sessionId: session.id, contentType, byteSize: 8 } }, { as: member });
        if (result.errors) {
          expect(invalidFields(result)).toEqual(['input.contentType']);
          return;
        }
        // Accepted: it goes back out as a header unchanged and the PUT with it completes.
        const made: Upload = result.data.createAudioUpload;
        expect(contentType).toMatch(/^audio\/[\x21-\x7e][\t\x20-\x7e]*$/i);
        expect(contentType).not.toMatch(/[\t ]$/);
        const put = await send(made.method, reachable(t, made.uploadUrl), headersOf(made), bytesOf(8));
        expect(put.status).toBe(200);
      }),
      { numRuns: 200 },
    );
  });
});

describe('audio downloads', () => {
  it('serve audio types as such, anything else as an attachment of opaque bytes; never sniffed, sandboxed', async () => {
    const { t, audioDir } = suite();
    const { member, session } = await owner();
    const storedType = fc.oneof(mediaType, fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('text/html', 'audio/html', 'image/svg+xml', 'audio/ogg\ntext/html'));
    // One object, its stored type rewritten per run (types kept from before the rule, a store that lost it).
    const made = await upload(t, member, session.id, bytesOf(32), 'audio/ogg');
    const posted = await t.gql(
      'mutation($input: PostMessageInput!) { postMessage(input: $input) { audio { url } } }',
      { input: { sessionId: session.id, role: 'USER', content: 'x', audio: { key: made.key, contentType: 'audio/ogg', byteSize: 32 } } },
      { as: member },
    );
    expect(posted.errors).toBeUndefined();
    const url = reachable(t, posted.data.postMessage.audio.url);
    const typeFile = path.join(audioDir!, '.meta', `${made.key}.type`);
    const expectSafe = (headers: Record<string, unknown>, served: string) => {
      expect(headers['content-type']).toBe(served);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['content-security-policy']).toBe("sandbox; default-src 'none'");
      const disposition = served === 'application/octet-stream' ? 'attachment' : 'inline';
      expect(headers['content-disposition']).toBe(`${disposition}; filename="${path.posix.basename(made.key)}"`);
    };
    expectSafe((await send('GET', url, {})).headers, 'audio/ogg');
    await fc.assert(
      fc.asyncProperty(storedType, async (type) => {
        await fs.writeFile(typeFile, type);
        const answer = await send('GET', url, {});
        expect(answer.status).toBe(200);
        const isAudio = /^audio\//i.test(type) && !/[^\t\x20-\x7e]/.test(type) && type === type.trim();
        const served = answer.headers['content-type'];
        if (served !== 'application/octet-stream') expect({ isAudio, served }).toEqual({ isAudio: true, served: type });
        expectSafe(answer.headers, served!);
      }),
      { numRuns: 60, examples: [['audio/html'], ['text/html'], ['']] },
    );
  });
});
