import { createHash } from 'node:crypto';
import { isStorableText } from '../common/text';
import { badField } from '../errors';
import { isUuid } from '../ids';

/**
 * What a keyset ordering sorts on, as PostgreSQL types: `time` (timestamptz), `text`, `int4`,
 * `int8`, `float8`. Every value travels as a string: integers in decimal (JSON numbers lose
 * precision past 2^53), doubles as JavaScript's shortest round-trip text (pg reads a float8 into
 * the same double, so the text casts back to exactly the stored value), so a key has one type
 * whatever the column.
 */
export type CursorKind = 'time' | 'text' | 'int4' | 'int8' | 'float8';

/** The keyset position of an item: its sort value and its id. */
export type CursorKey = [value: string, id: string];

/**
 * Cursors are opaque to clients: base64url JSON `{ l, k }` where `l` names the list (its kind,
 * ordering and filter) and `k` is the keyset position. Carrying `l` lets a cursor taken from
 * another list or ordering be rejected instead of silently yielding a wrong page.
 */
export function encodeCursor(list: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_CURSOR_LENGTH = 1024;
/** Longer than any sortable text column holds (titles 200, skill names 64): a bound, not a rule. */
export const MAX_CURSOR_TEXT = 256;

// Cursors carry `Date#toISOString()` of a stored timestamp: years 0001 to 9999, exactly that form.
// Year 0000 parses in JavaScript but not in PostgreSQL (there is no year zero); signed six-digit
// years are outside what we issue. A time we never issued is bad input, not a failed statement.
const ISO_TIME = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
function isCursorTime(value: string): boolean {
  const match = ISO_TIME.exec(value);
  if (!match || match[1] === '0000') return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value;
}

const INTEGER = /^-?(0|[1-9]\d{0,18})$/;
// Only the text `String(number)` gives a finite double: no NaN, no Infinity, one spelling per value.
const isCanonicalDouble = (value: string) => value.length <= 32 && Number.isFinite(Number(value)) && String(Number(value)) === value;
const RANGE = { int4: [-(2n ** 31n), 2n ** 31n - 1n], int8: [-(2n ** 63n), 2n ** 63n - 1n] };

/** Whether a cursor's sort value is one its column can hold and we could have issued. */
function isCursorValue(kind: CursorKind, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  switch (kind) {
    case 'time':
      return isCursorTime(value);
    case 'text':
      return value.length <= MAX_CURSOR_TEXT && isStorableText(value);
    case 'float8':
      return isCanonicalDouble(value);
    case 'int4':
    case 'int8': {
      if (!INTEGER.test(value)) return false;
      const [min, max] = RANGE[kind];
      return BigInt(value) >= min && BigInt(value) <= max;
    }
  }
}

/**
 * Decodes a cursor argument (`after` or `before`) for `list`. Anything that is not one of this
 * list's cursors is BAD_USER_INPUT naming the argument: every component is checked against its
 * column's type and PostgreSQL's range here, so no forged cursor reaches a statement.
 */
export function decodeCursor(
  list: string,
  raw: string | null | undefined,
  kind: CursorKind,
  field = 'after',
): CursorKey | null {
  if (raw === undefined || raw === null) return null;
  const invalid = () => badField(field, 'is not a cursor of this list and ordering');
  if (typeof raw !== 'string' || raw.length > MAX_CURSOR_LENGTH || !BASE64URL.test(raw)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const { l, k } = parsed as { l?: unknown; k?: unknown };
  if (l !== list || !Array.isArray(k) || k.length !== 2) throw invalid();
  const [value, id] = k as unknown[];
  if (!isUuid(id) || !isCursorValue(kind, value)) throw invalid();
  return [value, id.toLowerCase()];
}

/** Names a list for its cursors: its kind, ordering and (hashed, to keep cursors short) filter. */
export function listId(kind: string, order: string, filterKey?: string): string {
  if (filterKey === undefined) return `${kind}:${order}`;
  return `${kind}:${order}:${createHash('sha1').update(filterKey).digest('base64url').slice(0, 12)}`;
}
