import { badField } from '../errors';

export const DEFAULT_PAGE_SIZE = 20;

/** The size of a page whose `first`/`last` is not given: the default, never above the maximum. */
export function defaultPageSize(max: number): number {
  return Math.min(DEFAULT_PAGE_SIZE, max);
}

/**
 * The page size a list will return: `first`, or the default, checked against the configured
 * maximum before anything reaches the database. Zero is allowed (a page that only answers
 * `hasNextPage` and `totalCount`).
 */
export function pageSize(first: number | null | undefined, max: number, field = 'first'): number {
  if (first === undefined || first === null) return defaultPageSize(max);
  if (!Number.isInteger(first) || first < 0) throw badField(field, 'must be zero or a positive whole number');
  if (first > max) throw badField(field, `must be at most ${max}`);
  return first;
}
