import { Context } from '../context';
import { Connection, toConnection } from '../pagination/connection';
import { encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { PageArgs, pageKey, pageRequest } from '../pagination/page-args';
import { Session } from '../sessions/session.entity';
import { Message } from './message.entity';
import { MESSAGE_ORDERS, MessageOrderName, MessagesPageArgs } from './message.sql';

export interface MessagesArgs extends PageArgs {
  orderBy?: MessageOrderName | null;
}

/** `Session.messages`: batched across sessions; the total is the session's `messageCount`. */
export async function messagesOfSession(ctx: Context, session: Session, raw: MessagesArgs): Promise<Connection<Message>> {
  const order = MESSAGE_ORDERS[raw.orderBy ?? 'CREATED_AT_ASC'];
  const list = listId('session.messages', order.name);
  const args: MessagesPageArgs = { order, ...pageRequest(raw, list, order.kind, ctx.config.maxPageSize) };
  const argsKey = JSON.stringify([order.name, pageKey(args)]);
  const page = await ctx.loaders.messagesPageBySessionId.load({ id: session.id, args, argsKey });
  return toConnection(
    page,
    (m) => encodeCursor(list, cursorKeyOf(order, m)),
    async () => (await ctx.loaders.messageStatsBySessionId.load(session.id)).count,
  );
}
