import { entityRows, ReadModel } from '../db/entity-rows';
import { Session } from './session.entity';

/** Sessions on the read path: the select list and hydration derived from the entity's columns. */
export const sessionRows = entityRows(Session);

/** A session as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type SessionModel = ReadModel<Session>;

/** Sessions as entities for the write path (locks): stored values, timestamps as `Date`s. */
export const sessionColumns = (alias: string, prefix = '') => sessionRows.entitySelect(alias, prefix);
export const toSession = (row: Record<string, unknown>, prefix = '') => sessionRows.toEntity(row, prefix);
