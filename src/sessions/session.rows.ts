import { entityRows, ReadModel } from '../db/entity-rows';
import { Session } from './session.entity';

/** Sessions on the read path: the select list and hydration derived from the entity's columns. */
export const sessionRows = entityRows(Session);

/** A session as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type SessionModel = ReadModel<Session>;
