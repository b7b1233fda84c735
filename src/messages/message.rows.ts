import { entityRows, ReadModel } from '../db/entity-rows';
import { Message } from './message.entity';

/** Messages on the read path: the select list and hydration derived from the entity's columns. */
export const messageRows = entityRows(Message);

/** A message as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type MessageModel = ReadModel<Message>;

/** Messages as entities for the write path (locks): stored values, timestamps as `Date`s. */
export const messageColumns = (alias: string, prefix = '') => messageRows.entitySelect(alias, prefix);
export const toMessage = (row: Record<string, unknown>, prefix = '') => messageRows.toEntity(row, prefix);
