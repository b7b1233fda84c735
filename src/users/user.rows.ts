import { entityRows, ReadModel } from '../db/entity-rows';
import { User } from './user.entity';

/** Users on the read path: the select list and hydration derived from the entity's columns. */
export const userRows = entityRows(User);

/** A user as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type UserModel = ReadModel<User>;
