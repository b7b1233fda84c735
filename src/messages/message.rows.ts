import { entityRows, ReadModel } from '../db/entity-rows';
import { Message } from './message.entity';

/** Messages on the read path: the select list and hydration derived from the entity's columns. */
export const messageRows = entityRows(Message);

/** A message as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type MessageModel = ReadModel<Message>;
