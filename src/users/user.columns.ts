import { fieldReads, selectedProperties } from '../pagination/selection';
import { UserModel } from './user.rows';

/**
 * What each `User` field reads of the read model. A field not listed here (a new one, or one
 * whose resolver reads more) makes a list's owners read every column.
 */
const FIELD_PROPERTIES = fieldReads<keyof UserModel>({
  __typename: [],
  id: ['id'],
  email: ['email'],
  displayName: ['displayName'],
  role: ['role'],
  createdAt: ['createdAt'],
  sessions: ['id'],
  sessionCount: ['id'],
  usage: ['id'],
});

/**
 * The read-model properties a selection of a user (`Session.owner`: its field nodes, through
 * fragments) reads; always `id`. Null: every column (a field this does not know).
 */
export const userPropertiesOf = selectedProperties<keyof UserModel>(FIELD_PROPERTIES, 'id');
