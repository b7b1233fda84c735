import { createHash } from 'node:crypto';
import { badField } from '../errors';
import { isUuid } from '../ids';

/** The keyset position of an item: its sort value (an ISO time or a name) and its id. */
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

// Cursors carry `Date#toISOString()` of a stored timestamp: four-digit years only. A forged time
// JavaScript can parse but PostgreSQL cannot hold (year -271821, say) must be bad input, not a
// failed statement.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
function isCursorTime(value: string): boolean {
  return ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
}

/** Decodes `after` for `list`; anything that is not one of this list's cursors is BAD_USER_INPUT. */
export function decodeCursor(
  list: string,
  raw: string | null | undefined,
  valueKind: 'time' | 'text',
  field = 'after',
): CursorKey | null {
  if (raw === undefined || raw === null) return null;
  const invalid = () => badField(field, 'is not a cursor of this list and ordering');
  if (typeof raw !== 'string' || raw.length > 1024 || !BASE64URL.test(raw)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { l, k } = (parsed ?? {}) as { l?: unknown; k?: unknown };
  if (l !== list || !Array.isArray(k) || k.length !== 2) throw invalid();
  const [value, id] = k as unknown[];
  if (typeof value !== 'string' || !isUuid(id)) throw invalid();
  if (valueKind === 'time' && !isCursorTime(value)) throw invalid();
  return [value, id];
}

/** Names a list for its cursors: its kind, ordering and (hashed, to keep cursors short) filter. */
export function listId(kind: string, order: string, filterKey?: string): string {
  if (filterKey === undefined) return `${kind}:${order}`;
  return `${kind}:${order}:${createHash('sha1').update(filterKey).digest('base64url').slice(0, 12)}`;
}
