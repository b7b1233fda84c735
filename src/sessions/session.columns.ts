import { ConnectionSelection, fieldReads, propertiesRead, selectedProperties } from '../pagination/selection';
import { SessionModel } from './session.rows';

/**
 * What each `Session` field reads of the read model (the relations read only the id: their own
 * columns of the page statement read the rest). A field not listed here (a new one, or one whose
 * resolver reads more) makes a page of sessions read every column.
 */
const FIELD_PROPERTIES = fieldReads<keyof SessionModel>({
  __typename: [],
  id: ['id'],
  title: ['title'],
  owner: ['userId'],
  skills: ['id'],
  messages: ['id'],
  messageCount: ['id'],
  lastMessage: ['id'],
  usage: ['id'],
  isSyncing: ['isSyncing'],
  nodeSync: ['id'],
  createdAt: ['createdAt'],
  updatedAt: ['updatedAt'],
  deletedAt: ['deletedAt'],
  version: ['version'],
});

/**
 * The read-model properties a page of sessions reads of each session: its nodes' fields, plus
 * every order's keyset (`createdAt`, `updatedAt`, `id`) when cursors may be read. Always `id`.
 * Null: every column (a field this does not know).
 */
export function sessionPagePropertiesOf(selection: ConnectionSelection): (keyof SessionModel)[] | null {
  return propertiesRead(selection.nodeFieldNodes, FIELD_PROPERTIES, selection.cursors ? ['id', 'createdAt', 'updatedAt'] : ['id']);
}

/**
 * The read-model properties a selection of one session (`Message.session`: its field nodes,
 * through fragments) reads; always `id`. Null: every column (a field this does not know).
 */
export const sessionPropertiesOf = selectedProperties<keyof SessionModel>(FIELD_PROPERTIES, 'id');
