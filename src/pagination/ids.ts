import { badField } from '../errors';
import { isUuid } from '../ids';

/** An id argument, checked at the edge and lower-cased so loader keys match the rows' ids. */
export function parseId(value: unknown, field = 'id'): string {
  if (!isUuid(value)) throw badField(field, 'must be a UUID');
  return value.toLowerCase();
}
