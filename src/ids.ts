import { badField } from './errors';

/**
 * The id rules, in one place: ids are UUIDs (any hex UUID: seeded and imported ids need not be
 * version 4), compared lower-cased so loader keys match the rows' ids, and at most
 * MAX_IDS_PER_CALL of them per call. Resolvers (`parseId`), input classes (`common/id.inputs.ts`)
 * and cursors all apply these.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The most ids one call may name (`deleteUsers`, `attachSkills`, `skillIds`…). */
export const MAX_IDS_PER_CALL = 100;

/** Ids are UUIDs; anything else can name no row. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The form ids are compared and stored in (PostgreSQL prints uuids lower-cased). */
export function normalizeId(id: string): string {
  return id.toLowerCase();
}

/** An id argument, checked at the edge and normalized so loader keys match the rows' ids. */
export function parseId(value: unknown, field = 'id'): string {
  if (!isUuid(value)) throw badField(field, 'must be a UUID');
  return normalizeId(value);
}

/** Ids normalized and deduplicated, in first-seen order. */
export function distinct(ids: readonly string[]): string[] {
  return [...new Set(ids.map(normalizeId))];
}
