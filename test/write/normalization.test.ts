/**
 * Issue #22, items 2 and 5: inputs are never silently changed, and an input that passes
 * validation never becomes a 500. One rule per field, stated in schema.graphql and modelled here:
 * titles, skill names and descriptions, display names lose leading and trailing ASCII white space
 * and nothing else; emails are ASCII only (anything else is BAD_USER_INPUT), stored with A–Z
 * lower-cased; every limit holds for the normalized value. fast-check draws full Unicode strings
 * mixed with the characters that broke it before (case-changing İ ß ﬁ, NBSP, U+FEFF, bidi and
 * control characters, white space of both kinds at the ends); the server's answer and the stored
 * row must equal the model's. A request body that is not valid UTF-8 (sent byte for byte on a raw
 * socket) is BAD_USER_INPUT and stores nothing, never U+FFFD.
 */
import net from 'node:net';
import fc from 'fast-check';
import { codes, useTestServer } from '../harness';

const { t, f } = useTestServer({}, { invariants: true });

const ASCII_SPACE = ['\t', '\n', '\v', '\f', '\r', ' '];
const TRICKY = ['İ', 'ß', 'ﬁ', 'ǅ', 'Σ', '\u00a0', '\ufeff', '\u2028', '\u202e', '\u200f', '\u0001', '\u007f', '\u0085', '\u3000', 'é', 'e\u0301', '😀', 'A', 'z'];
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 2, arbitrary: fc.constantFrom(...ASCII_SPACE) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...TRICKY), minLength: 20, maxLength: 70 }) },
);
const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

/** The trimming rule, written independently of src/: ASCII white space at the ends goes. */
function trimmed(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && ASCII_SPACE.includes(value[start])) start += 1;
  while (end > start && ASCII_SPACE.includes(value[end - 1])) end -= 1;
  return value.slice(start, end);
}
const length = (value: string) => [...value].length;
const storable = (value: string) => !value.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
/** A non-blank limit-checked text field: what it stores, or 'refused'. */
function model(value: string, max: number): string | 'refused' {
  const stored = trimmed(value);
  if (stored.trim() === '' || length(stored) > max || !storable(stored)) return 'refused';
  return stored;
}

const fields = [
  {
    name: 'createSkill.name',
    max: 64,
    send: async (value: string) => {
      // Names are unique among live skills: an earlier run's skill of the same name leaves the catalogue first.
      await t.dataSource.query(`UPDATE skills SET deleted_at = now() WHERE name = $1 AND deleted_at IS NULL`, [trimmed(value)]);
      return t.gql(`mutation($input: CreateSkillInput!) { createSkill(input: $input) { id name } }`, { input: { name: value } }, { as: admin });
    },
    stored: (data: any) => data?.createSkill?.name,
    read: async (data: any) => (await t.dataSource.query(`SELECT name FROM skills WHERE id = $1`, [data.createSkill.id]))[0].name,
  },
  {
    name: 'createSession.title',
    max: 200,
    send: (value: string) => t.gql(`mutation($input: CreateSessionInput!) { createSession(input: $input) { id title } }`, { input: { title: value } }, { as: admin }),
    stored: (data: any) => data?.createSession?.title,
    read: async (data: any) => (await t.dataSource.query(`SELECT title FROM sessions WHERE id = $1`, [data.createSession.id]))[0].title,
  },
  {
    name: 'createUser.displayName',
    max: 100,
    send: (value: string) =>
      t.gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id displayName } }`, { input: { email: `n-${Math.random().toString(36).slice(2)}@test.hub`, displayName: value } }, { as: admin }),
    stored: (data: any) => data?.createUser?.displayName,
    read: async (data: any) => (await t.dataSource.query(`SELECT display_name FROM users WHERE id = $1`, [data.createUser.id]))[0].display_name,
  },
];

let admin: Awaited<ReturnType<typeof f.admin>>;
beforeAll(async () => {
  admin = await f.admin();
});

describe.each(fields)('$name', (field) => {
  it('stores exactly the value with ASCII white space trimmed from its ends, or refuses it with BAD_USER_INPUT', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.constantFrom('', ' ', '\t\n'), async (core, ends) => {
        const value = `${ends}${core}${ends}`;
        const expected = model(value, field.max);
        const result = await field.send(value);
        if (expected === 'refused') {
          expect(codes(result)).toEqual(['BAD_USER_INPUT']);
        } else {
          expect(codes(result)).toEqual([]);
          expect(field.stored(result.data)).toBe(expected);
          expect(await field.read(result.data)).toBe(expected);
        }
      }),
      { numRuns: 120 },
    );
  });
});

describe('createUser.email', () => {
  const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { id email } }`;
  const local = fc.array(fc.oneof(fc.constantFrom('a', 'B', 'z', 'Q', '.', '_', '+', '1'), fc.constantFrom(...TRICKY)), { minLength: 1, maxLength: 40 }).map((p) => p.join(''));

  it('is ASCII, compared case-insensitively (stored with A–Z lower-cased), or BAD_USER_INPUT: never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(local, fc.nat({ max: 3 }), fc.constantFrom('', ' ', '\t'), async (name, repeat, ends) => {
        const tag = Math.random().toString(36).slice(2, 8);
        const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}`.slice(0, 63 * (repeat + 1) + repeat);
        const email = `${ends}${name}${tag}@${domain}.com${ends}`;
        const result = await t.gql(CREATE, { input: { email, displayName: 'E' } }, { as: admin });
        expect(result.status).toBeLessThan(500);
        const core = trimmed(email);
        if (!/^[\x21-\x7e]+$/.test(core) || core.length > 254) {
          expect(codes(result)).toEqual(['BAD_USER_INPUT']);
          return;
        }
        // Validity of an ASCII address is the validator's to decide; what passes is stored A–Z lower-cased.
        expect(codes(result).filter((c) => c !== 'BAD_USER_INPUT')).toEqual([]);
        if (result.data?.createUser) {
          const lowered = core.replace(/[A-Z]/g, (c) => c.toLowerCase());
          expect(result.data.createUser.email).toBe(lowered);
          const again = await t.gql(CREATE, { input: { email: core.toUpperCase(), displayName: 'E' } }, { as: admin });
          expect(codes(again)).toEqual(['CONFLICT']);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('the adversary’s İ address (228 characters, 260 once Unicode lower-cased) is BAD_USER_INPUT', async () => {
    const email = `${'İ'.repeat(32)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.com`;
    expect(codes(await t.gql(CREATE, { input: { email, displayName: 'I' } }, { as: admin }))).toEqual(['BAD_USER_INPUT']);
  });
});

/** One POST of raw bytes on a fresh socket; the status line and body of the answer. */
function rawPost(url: string, token: string, body: Buffer): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    const head =
      `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
      `authorization: Bearer ${token}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

describe('a request body that is not valid UTF-8', () => {
  // Lone continuation bytes, overlong forms, UTF-16 surrogates, bytes never in UTF-8, truncated sequences.
  const invalid = fc.constantFrom(
    [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf5, 0x80, 0x80, 0x80], [0xff], [0xfe], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3],
  );

  it('is BAD_USER_INPUT and stores nothing (no U+FFFD)', async () => {
    await fc.assert(
      fc.asyncProperty(invalid, fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), async (bytes, before, after) => {
        const name = `utf8-${Math.random().toString(36).slice(2, 10)}`;
        const json = JSON.stringify({ query: `mutation($n: String!) { createSkill(input: { name: $n }) { id } }`, variables: { n: `${name}\u0000` } });
        // The marker NUL (escaped as \u0000 in the JSON) is replaced by the raw bytes inside the string.
        const [head, tail] = json.split('\\u0000');
        const body = Buffer.concat([Buffer.from(head + before.replace(/["\\]/g, ''), 'utf8'), Buffer.from(bytes), Buffer.from(after.replace(/["\\]/g, '') + tail, 'utf8')]);
        const result = await rawPost(t.url, t.tokenFor(admin), body);
        expect(result.status).toBe(400);
        expect(JSON.parse(result.body).errors[0].extensions.code).toBe('BAD_USER_INPUT');
        const stored = await t.dataSource.query(`SELECT name FROM skills WHERE name LIKE $1`, [`${name}%`]);
        expect(stored).toEqual([]);
      }),
      { numRuns: 60 },
    );
    // This test's skills only: other suites may store U+FFFD that their clients sent as valid UTF-8.
    expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM skills WHERE name LIKE 'utf8-%' AND name LIKE '%' || chr(65533) || '%'`))[0].n).toBe(0);
  });
});
