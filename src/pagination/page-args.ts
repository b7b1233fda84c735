import { badField } from '../errors';
import { CursorKey, CursorKind, decodeCursor } from './cursor';
import { pageSize } from './page-size';

/** A connection's paging arguments as GraphQL hands them over. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * A checked page request. The window is the list strictly between `after` and `before` (either
 * may be open); a forward page is its first `size` items, a backward page its last `size` items.
 */
export interface PageRequest {
  size: number;
  after: CursorKey | null;
  before: CursorKey | null;
  backward: boolean;
}

/**
 * Checks paging arguments at the edge, the Relay way (Cursor Connections spec, "Pagination
 * algorithm"): `after` and `before` both slice the list, so together they give the window
 * between two cursors; `first` takes from the window's start, `last` from its end. `first` and
 * `last` together are refused (the spec strongly discourages them: the page would be the last
 * items of the first ones, which no client means). `before` alone pages backward, the nearest
 * items before the cursor first, as `last` would. Both counts share the default and maximum.
 */
export function pageRequest(raw: PageArgs, list: string, kind: CursorKind, maxPageSize: number): PageRequest {
  const first = raw.first ?? null;
  const last = raw.last ?? null;
  if (first !== null && last !== null)
    throw badField('last', 'cannot be combined with first: page forward or backward');
  const backward = last !== null || (first === null && raw.before != null);
  return {
    size: backward ? pageSize(last, maxPageSize, 'last') : pageSize(first, maxPageSize, 'first'),
    after: decodeCursor(list, raw.after, kind, 'after'),
    before: decodeCursor(list, raw.before, kind, 'before'),
    backward,
  };
}

/** The part of a loader key that a page request contributes. */
export function pageKey(request: PageRequest): string {
  return JSON.stringify([request.size, request.after, request.before, request.backward]);
}
