/**
 * Generators of hostile input, shared by the security tests (test/security/hostile-input.test.ts,
 * trusted-documents.test.ts) and the fuzz suite (test/reliability/fuzz.test.ts): fragment graphs,
 * token bombs, content encodings, header blocks and header bytes, documentIds and forged cursors.
 * Each generates one class of input from the benign to past every limit.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Lexer, Source, TokenKind } from 'graphql';

// ---- fragments ---------------------------------------------------------------------------------

/** `fragment F0 on Session { id ...F1 ...F1 }` …: each fragment spreads the next `fanOut` times. */
export function fragmentChain(length: number, fanOut: number, type: 'Session' | 'User'): string {
  const fragments = Array.from({ length }, (_, i) => {
    const next = i + 1 < length ? Array.from({ length: fanOut }, () => `...F${i + 1}`).join(' ') : 'id';
    return `fragment F${i} on ${type} { id ${next} }`;
  });
  const root = type === 'Session' ? '{ sessions(first: 1) { nodes { ...F0 } } }' : '{ me { ...F0 } }';
  return [root, ...fragments].join('\n');
}

/** How one spread in a generated fragment graph is written. */
type SpreadForm = 'plain' | 'typed-inline' | 'untyped-inline' | 'directive';
export interface FragmentGraph {
  /** Per fragment, its spreads: a position in [0, 1) picks the target (see `printFragmentGraph`). */
  spreads: { at: number; form: SpreadForm }[][];
  /** Spreads may point back (cycles), not only forward (chains, trees, DAGs). */
  cycles: boolean;
  /** Spreads of fragments that are not defined. */
  unknown: number;
  /** Fragments on the other type (invalid where they are spread). */
  mismatched: number;
  root: 'Session' | 'User';
}

/** Fragment graphs: 1 to 130 fragments (the limit is 100), 0 to 4 spreads each, any shape. */
export const fragmentGraph: fc.Arbitrary<FragmentGraph> = fc.record({
  spreads: fc.array(
    fc.array(fc.record({ at: fc.double({ min: 0, max: 0.999, noNaN: true }), form: fc.constantFrom<SpreadForm>('plain', 'plain', 'plain', 'typed-inline', 'untyped-inline', 'directive') }), { maxLength: 4 }),
    { minLength: 1, maxLength: 130 },
  ),
  cycles: fc.boolean(),
  unknown: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  mismatched: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  root: fc.constantFrom<'Session' | 'User'>('Session', 'User'),
});

export function printFragmentGraph(graph: FragmentGraph): string {
  const count = graph.spreads.length;
  const other = graph.root === 'Session' ? 'User' : 'Session';
  const typeOf = (i: number) => (i > 0 && i <= graph.mismatched ? other : graph.root);
  const fragments = graph.spreads.map((spreads, i) => {
    const body = spreads.map(({ at, form }, k) => {
      // Forward only (a chain, tree or DAG), or anywhere (cycles, self-spreads).
      const target = graph.cycles ? Math.floor(at * count) : i + 1 + Math.floor(at * (count - i - 1));
      const name = k < graph.unknown && i === 0 ? `Missing${k}` : target < count ? `F${target}` : undefined;
      if (!name) return '';
      if (form === 'typed-inline') return `... on ${typeOf(i)} { ...${name} }`;
      if (form === 'untyped-inline') return `... { ...${name} }`;
      if (form === 'directive') return `...${name} @include(if: true)`;
      return `...${name}`;
    });
    return `fragment F${i} on ${typeOf(i)} { id ${body.join(' ')} }`;
  });
  const root = graph.root === 'Session' ? '{ sessions(first: 2) { nodes { ...F0 } } }' : '{ me { ...F0 } }';
  return [root, ...fragments].join('\n');
}

// ---- token bombs -------------------------------------------------------------------------------

/** Documents of `n` repeated parts, from the harmless to far past the token limit. */
export const TOKEN_SHAPES: Record<string, (n: number) => string> = {
  fields: (n) => `{ me { ${'id '.repeat(n)} } }`,
  aliases: (n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`,
  fragments: (n) => `{ me { id } } ${Array.from({ length: n }, (_, i) => `fragment G${i} on User { id }`).join(' ')}`,
  variables: (n) => `query (${Array.from({ length: n }, (_, i) => `$v${i}: Int`).join(' ')}) { me { id } }`,
  directives: (n) => `{ sessions(first: 1) { nodes { id ${'@include(if: true) '.repeat(n)} } } }`,
  arguments: (n) => `{ sessions(${Array.from({ length: n }, (_, i) => (i % 2 ? `first: ${i}` : `after: "${i}"`)).join(', ')}) { totalCount } }`,
  list: (n) => `{ nodes(ids: [${Array.from({ length: n }, (_, i) => `"${i}"`).join(', ')}]) { id } }`,
  // Nesting: the parser and validation recurse into lists, objects and selections.
  nestedLists: (n) => `{ nodes(ids: ${'['.repeat(n)}"x"${']'.repeat(n)}) { id } }`,
  nestedObjects: (n) => `{ sessions(filter: ${'{ userId: '.repeat(n)}"x"${' }'.repeat(n)}) { totalCount } }`,
  nestedSelections: (n) => `{ ${'me { sessions { nodes { owner { '.repeat(Math.ceil(n / 4))}id${' } } } }'.repeat(Math.ceil(n / 4))} }`,
  // Comments and long strings are one token or none.
  comment: (n) => `{ me { id } } # ${'x '.repeat(n)}`,
  string: (n) => `{ session(id: "${'s'.repeat(Math.min(n * 20, 200_000))}") { id } }`,
  blockString: (n) => `{ session(id: """${'"\\n'.repeat(Math.min(n, 60_000))}""") { id } }`,
};

/** A token bomb: a shape and its size, around the limit or far past it. */
export function tokenBomb(limit: number): fc.Arbitrary<{ shape: string; n: number; query: string }> {
  return fc
    .record({
      shape: fc.constantFrom(...Object.keys(TOKEN_SHAPES)),
      n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: Math.floor(limit / 4) - 20, max: Math.floor(limit / 4) + 20 }), fc.integer({ min: limit - 20, max: limit + 20 }), fc.integer({ min: 1000, max: 40_000 })),
    })
    .map(({ shape, n }) => ({ shape, n, query: TOKEN_SHAPES[shape](Math.max(0, n)) }));
}

/** Tokens as graphql-js's parser counts them (every token but comments and the end): the token limit's oracle. */
export function tokensOf(query: string): number {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) count += 1;
  return count;
}

// ---- content encodings -------------------------------------------------------------------------

const encode = (encoding: string, bytes: Buffer) =>
  encoding === 'gzip' || encoding === 'x-gzip' ? gzipSync(bytes) : encoding === 'deflate' ? deflateSync(bytes) : encoding === 'br' ? brotliCompressSync(bytes) : bytes;

/** Bodies with a `content-encoding`: valid, unknown, stacked, truncated, garbage and bombs. */
export function encodedBody(validBody: Buffer): fc.Arbitrary<{ encoding: string; bytes: Buffer }> {
  return fc.oneof(
    fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-gzip', 'GZIP').map((encoding) => ({ encoding, bytes: encode(encoding.toLowerCase(), validBody) })),
    fc.record({ encoding: fc.constantFrom('gzip', 'deflate', 'br', 'x-gzip', 'compress', 'zstd', 'gzip, gzip', 'GZIP', 'identity, gzip', 'bogus', '', ' gzip', 'gzip;q=1', '\u00e9'), bytes: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) }),
    fc.record({ encoding: fc.constantFrom('gzip', 'deflate', 'br'), cut: fc.nat({ max: 30 }) }).map(({ encoding, cut }) => {
      const whole = encode(encoding, validBody);
      return { encoding, bytes: whole.subarray(0, Math.max(1, whole.length - 1 - cut)) };
    }),
    // Encoded twice but labelled once, and labelled twice.
    fc.constantFrom('gzip', 'deflate').map((encoding) => ({ encoding, bytes: encode(encoding, encode(encoding, validBody)) })),
    fc.constant({ encoding: 'deflate, gzip', bytes: gzipSync(deflateSync(validBody)) }),
    // Bombs: megabytes of spaces (or of JSON) in a few kilobytes, past the 256 kB body limit once inflated.
    fc.record({ encoding: fc.constantFrom('gzip', 'deflate', 'br'), mb: fc.integer({ min: 1, max: 8 }) }).map(({ encoding, mb }) => ({ encoding, bytes: encode(encoding, Buffer.alloc(mb * 1024 * 1024, 0x20)) })),
    fc.constantFrom('gzip', 'br').map((encoding) => ({ encoding, bytes: encode(encoding, Buffer.from(JSON.stringify({ query: `{ me { id } } #${'x'.repeat(300_000)}` }))) })),
  );
}

// ---- headers -----------------------------------------------------------------------------------

/** Header blocks over the server's limit: one long header, many headers, a long token. */
export const headerBomb: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.integer({ min: 1, max: 120_000 }).map((n) => ({ 'x-padding': 'a'.repeat(n) })),
  fc.integer({ min: 1, max: 3000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v'.repeat(20)]))),
  fc.integer({ min: 1, max: 60_000 }).map((n) => ({ authorization: `Bearer ${'a'.repeat(n)}` })),
);

/** Bytes a header value should not hold, or may hold only with care. */
const ODD_BYTES: Buffer[] = [
  [0x00], [0x01], [0x08], [0x0b], [0x7f], [0x0d], [0x0a], [0x0d, 0x0a], [0x0d, 0x0a, 0x20], [0x09], [0x20],
  [0x80], [0xff], [0xc3, 0xa9], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98, 0x80], [0xc3], [0x22], [0x5c], [0x2c], [0x3b], [0x3d],
].map((bytes) => Buffer.from(bytes));

/** A header value: `valid`, with odd bytes put in, cut, repeated, or replaced by noise. */
export function oddHeaderValue(valid: string): fc.Arbitrary<Buffer> {
  const base = Buffer.from(valid);
  return fc.oneof(
    fc.array(fc.tuple(fc.nat({ max: base.length }), fc.constantFrom(...ODD_BYTES)), { minLength: 1, maxLength: 3 }).map((edits) =>
      edits.reduce((value, [at, bytes]) => Buffer.concat([value.subarray(0, Math.min(at, value.length)), bytes, value.subarray(Math.min(at, value.length))]), base),
    ),
    fc.nat({ max: base.length }).map((at) => base.subarray(0, at)),
    fc.integer({ min: 2, max: 200 }).map((n) => Buffer.from(valid.repeat(n).slice(0, 16_000))),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)),
  );
}

// ---- documentIds -------------------------------------------------------------------------------

/** `documentId` values around a known one: it, other hashes, wrong prefixes, cases and lengths, other types. */
export function documentId(known: string): fc.Arbitrary<unknown> {
  const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(known) },
    fc.string({ maxLength: 80 }).map((s) => `sha256:${createHash('sha256').update(s).digest('hex')}`),
    hex.map((h) => `sha256:${h}`),
    fc.string({ maxLength: 80 }),
    fc.constantFrom(known.toUpperCase(), known.slice(7), `${known} `, ` ${known}`, known.replace('sha256:', 'sha512:'), known.replace('sha256:', 'SHA256:'), `${known}0`, known.slice(0, -1), `${known}\u0000`, 'sha256:', ''),
    fc.integer({ min: 0, max: 200 }).map((n) => `sha256:${'a'.repeat(n)}`),
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.constant(known), { maxLength: 2 }), fc.constant({ id: known })),
  );
}

// ---- cursors -----------------------------------------------------------------------------------

/** A cursor's decoded form (`{ l: list, k: [value, id] }`, see src/pagination/cursor.ts). */
const decode = (cursor: string): Record<string, unknown> => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Values no cursor we issue holds, in any component: refused before SQL, never a 500. */
const BAD_TIMES = ['0000-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z', '10000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-11-29T25:00:00.000Z', '2026-11-29T08:00:00Z', '2026-11-29T08:00:00.000+01:00', '2026-11-29 08:00:00.000Z', '2026-11-29T08:00:00.000Z\u0000', '\u00002026-11-29T08:00:00.000Z', 'infinity', '-infinity', 'epoch', 'now'];
const BAD_TEXTS = ['a\u0000b', '\u0000', 'x'.repeat(257), '\uD800', 'a\uDFFFb'];
const BAD_INTEGERS = ['99999999999999999999', '9223372036854775808', '-9223372036854775809', '1e3', '-0', '01', '0x10', ' 1', '1.5', 'NaN'];
const BAD_IDS: unknown[] = ['x', '', '00000000-0000-0000-0000-00000000000', '00000000-0000-0000-0000-0000000000000', 'g0000000-0000-0000-0000-000000000000', `00000000-0000-0000-0000-000000000000\u0000`, 'x'.repeat(5000), 1, null, true, [], {}];
const WRONG_TYPES: unknown[] = [0, 1e308, -1, 2 ** 53 + 1, null, true, [], ['2026-11-29T08:00:00.000Z'], {}, { $date: 1 }];

/** A forged cursor and whether it can be one of the list's own (`valid: false`: it must be refused). */
export interface ForgedCursor {
  cursor: unknown;
  component: string;
  valid?: boolean;
}

/**
 * Cursors forged from a real one of a list: every component (`l`, the sort value, the id, the
 * key's shape) replaced with values of the wrong type, outside PostgreSQL's range, holding NUL,
 * or taken from another list's cursors; then the encoding itself (bad base64, not JSON, too long).
 */
export function forgedCursor(real: string, others: string[]): fc.Arbitrary<ForgedCursor> {
  const decoded = decode(real) as { l: string; k: [string, string] };
  // A time list's cursors hold ISO times; a text list's (skills by name) any storable text.
  const timeList = /^\d{4}-\d\d-\d\dT/.test(decoded.k[0]);
  const badValues = timeList ? [...BAD_TIMES, ...BAD_TEXTS, ...BAD_INTEGERS] : [...BAD_TEXTS, ...BAD_TIMES.filter((v) => v.includes('\u0000'))];
  const lists = [...new Set(others.map((c) => (decode(c) as { l: string }).l))].filter((l) => l !== decoded.l);
  const withKey = (k: unknown) => encodeJson({ l: decoded.l, k });
  const forged = (component: string, cursor: unknown, valid?: boolean): ForgedCursor => ({ cursor, component, valid });
  return fc.oneof(
    fc.constant(forged('none', real, true)),
    // The list: another list's or ordering's, or not a list name at all.
    fc.oneof(fc.constantFrom(...(lists.length ? lists : ['x'])), fc.string({ maxLength: 20 })).map((l) => forged('l', encodeJson({ ...decoded, l }), false)),
    fc.constantFrom(...WRONG_TYPES).map((l) => forged('l:type', encodeJson({ ...decoded, l }), false)),
    fc.constant(forged('l:missing', encodeJson({ k: decoded.k }), false)),
    fc.constantFrom(...(others.length ? others : [real])).map((c) => forged('other list', c)),
    // The sort value, whatever its column: times, texts and integers no column holds, wrong types.
    fc.constantFrom(...BAD_TIMES, ...BAD_TEXTS, ...BAD_INTEGERS).map((v) => forged('value', withKey([v, decoded.k[1]]))),
    fc.constantFrom(...badValues).map((v) => forged('value:bad', withKey([v, decoded.k[1]]), false)),
    fc.constantFrom(...WRONG_TYPES).map((v) => forged('value:type', withKey([v, decoded.k[1]]), false)),
    fc.constantFrom('0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', 'a', '', '0', '2147483647').map((v) => forged('value:edge', withKey([v, decoded.k[1]]))),
    // The id: not a UUID, or not a string.
    fc.constantFrom(...BAD_IDS).map((id) => forged('id', withKey([decoded.k[0], id]), false)),
    fc.uuid().map((id) => forged('id:other', withKey([decoded.k[0], id]))),
    fc.constant(forged('id:upper', withKey([decoded.k[0], decoded.k[1].toUpperCase()]), true)),
    // The key's shape.
    fc.constantFrom<unknown>([], [decoded.k[0]], [...decoded.k, 'x'], { 0: decoded.k[0], 1: decoded.k[1] }, decoded.k[0], null).map((k) => forged('k:shape', withKey(k), false)),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue(), { maxKeys: 3 }).map((extra) => forged('extra keys', encodeJson({ ...extra, ...decoded }))),
    // The encoding: standard base64 (the same text when it has no + / =), and broken ones.
    fc.constant(forged('encoding:base64', Buffer.from(JSON.stringify(decoded)).toString('base64'))),
    fc.constantFrom(
      `${real}=`,
      `${real}==`,
      ` ${real}`,
      real.replace(/[A-Za-z]/, '+'),
      `${real}\u0000`,
      `${real}é`,
      encodeJson('not an object'),
      encodeJson([decoded.l, decoded.k]),
      Buffer.from(`\uFEFF${JSON.stringify(decoded)}`).toString('base64url'),
      Buffer.from('{"l":').toString('base64url'),
      'A'.repeat(1025),
      real.repeat(20),
    ).map((c) => forged('encoding', c, false)),
    fc.constantFrom(...WRONG_TYPES.filter((v) => v !== null)).map((c) => forged('type', c, false)),
  );
}
