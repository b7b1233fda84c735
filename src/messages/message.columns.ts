import { FieldNode, FragmentDefinitionNode } from 'graphql';
import { connectionSelectionOf, fieldReads, propertiesRead } from '../pagination/selection';
import { MessageModel } from './message.rows';

/**
 * What each `Message` field reads of the read model. A field not listed here (a new one, or one
 * whose resolver reads more) makes a page read every column.
 */
const FIELD_PROPERTIES = fieldReads<keyof MessageModel>({
  __typename: [],
  id: ['id'],
  session: ['sessionId'],
  role: ['role'],
  content: ['content'],
  audio: ['audioKey', 'audioContentType', 'audioByteSize'],
  createdAt: ['createdAt'],
  deletedAt: ['deletedAt'],
  status: ['status'],
  usage: ['inputTokens', 'outputTokens', 'model'],
});

/**
 * The read-model properties a `Session.messages` selection (its field nodes, through fragments)
 * reads of each message: its nodes' fields (via `nodes` or `edges { node }`), plus the keyset's
 * (`createdAt`, `id`) when cursors may be read. Always `id`. Null: every column (a field this
 * does not know). Sorted, so equal selections give equal loader keys.
 */
export function messagePropertiesOf(
  fieldNodes: readonly FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
): (keyof MessageModel)[] | null {
  const selection = connectionSelectionOf(fieldNodes, fragments);
  // Cursors are the keyset of a message: its creation time and id.
  return propertiesRead(selection.nodeFieldNodes, FIELD_PROPERTIES, selection.cursors ? ['id', 'createdAt'] : ['id']);
}
