import { entityRows, ReadModel } from '../db/entity-rows';
import { User } from './user.entity';

/** Users on the read path: the select list and hydration derived from the entity's columns. */
export const userRows = entityRows(User);

/** A user as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type UserModel = ReadModel<User>;

/** Users as entities for the write path (locks): stored values, timestamps as `Date`s. */
export const userColumns = (alias: string, prefix = '') => userRows.entitySelect(alias, prefix);
export const toUser = (row: Record<string, unknown>, prefix = '') => userRows.toEntity(row, prefix);
