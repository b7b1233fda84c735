import { Context } from '../context';
import type { SessionMessagesArgs } from '../generated/resolvers-types';
import { Connection, Page, toConnection } from '../pagination/connection';
import { encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { pageKey, pageRequest } from '../pagination/page-args';
import { SessionModel } from '../sessions/session.rows';
import { MessageModel } from './message.rows';
import { MESSAGE_ORDERS, MessagesPageArgs } from './message.sql';

/** The arguments of `Session.messages`, as the schema states them. */
export type MessagesArgs = SessionMessagesArgs;

/** The arguments of `Session.messages` checked, and the key its loader batches and caches them under. */
export function messagesPageArgs(raw: MessagesArgs, maxPageSize: number) {
  const order = MESSAGE_ORDERS[raw.orderBy ?? 'CREATED_AT_ASC'];
  const list = listId('session.messages', order.name);
  const args: MessagesPageArgs = { order, ...pageRequest(raw, list, order.kind, maxPageSize) };
  return { list, args, argsKey: JSON.stringify([order.name, pageKey(args)]) };
}

/** `Session.messages`: batched across sessions; the total is the session's `messageCount`. */
export function messagesOfSession(
  ctx: Context,
  session: SessionModel,
  raw: MessagesArgs,
): Connection<MessageModel> | Promise<Connection<MessageModel>> {
  const { list, args, argsKey } = messagesPageArgs(raw, ctx.config.maxPageSize);
  const connection = (page: Page<MessageModel>) =>
    toConnection(
      page,
      (m) => encodeCursor(list, cursorKeyOf(args.order, m)),
      () => ctx.loaders.messageCountBySessionId.get(session.id),
    );
  // A page the list primed is answered without a promise (see db/loader.ts).
  const page = ctx.loaders.messagesPageBySessionId.get({ id: session.id, args, argsKey });
  return page instanceof Promise ? page.then(connection) : connection(page);
}
