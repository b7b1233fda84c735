import { FieldNode, FragmentDefinitionNode } from 'graphql';
import type { SessionMessagesArgs } from '../generated/schema-types';
import { listId } from '../pagination/cursor';
import { pageKey, pageRequest } from '../pagination/page-args';
import { perSelection, selectsPageInfo } from '../pagination/selection';
import { messagePropertiesOf } from './message.columns';
import { MESSAGE_ORDERS, MessagesPageArgs } from './message.sql';

/** The arguments of `Session.messages`, as the schema states them. */
export type MessagesArgs = SessionMessagesArgs;

/**
 * The arguments of `Session.messages` checked, and the key its loader batches and caches them
 * under. `probe`: the selection asks for `pageInfo`, so each page also reads whether it goes on
 * (one row more, and the edge flags with cursors); `properties`: what the selection reads of each
 * message (null: all). Pages read differently are different keys.
 */
export function messagesPageArgs(raw: MessagesArgs, maxPageSize: number, probe = true, properties: MessagesPageArgs['properties'] = null) {
  const order = MESSAGE_ORDERS[raw.orderBy ?? 'CREATED_AT_ASC'];
  const list = listId('session.messages', order.name);
  const args: MessagesPageArgs = { order, probe, properties, ...pageRequest(raw, list, order.kind, maxPageSize) };
  return { list, args, argsKey: JSON.stringify([order.name, probe, properties, pageKey(args)]) };
}

type PageArgsOf = ReturnType<typeof messagesPageArgs>;

/**
 * What a selection reads, once per document (`perSelection`). `last`: the checked arguments last
 * asked for through it (every session of a page asks for the same), by the arguments' JSON;
 * immutable, so shared by the sessions and requests that ask alike.
 */
const readBySelection = perSelection(
  (fieldNodes, fragments): { probe: boolean; properties: MessagesPageArgs['properties']; last?: { key: string; value: PageArgsOf } } => ({
    probe: selectsPageInfo(fieldNodes, fragments),
    properties: messagePropertiesOf(fieldNodes, fragments),
  }),
);

/** `messagesPageArgs` for a selection of `Session.messages`: its probe and the properties its nodes read. */
export function selectedMessagesPageArgs(
  raw: MessagesArgs,
  maxPageSize: number,
  fieldNodes: readonly FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
): PageArgsOf {
  const read = readBySelection(fieldNodes, fragments);
  const key = `${maxPageSize}\n${JSON.stringify(raw)}`;
  if (read.last?.key === key) return read.last.value;
  const value = messagesPageArgs(raw, maxPageSize, read.probe, read.properties);
  read.last = { key, value };
  return value;
}
