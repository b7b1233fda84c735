import { Context } from '../context';
import { Connection, toConnection } from '../pagination/connection';
import { decodeCursor, encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { pageSize } from '../pagination/page-size';
import { Session } from '../sessions/session.entity';
import { Message } from './message.entity';
import { MESSAGE_ORDERS, MessageOrderName, MessagesPageArgs } from './message.sql';

export interface MessagesArgs {
  first?: number | null;
  after?: string | null;
  orderBy?: MessageOrderName | null;
}

/** `Session.messages`: batched across sessions; the total is the session's `messageCount`. */
export async function messagesOfSession(ctx: Context, session: Session, raw: MessagesArgs): Promise<Connection<Message>> {
  const order = MESSAGE_ORDERS[raw.orderBy ?? 'CREATED_AT_ASC'];
  const list = listId('session.messages', order.name);
  const args: MessagesPageArgs = {
    order,
    size: pageSize(raw.first, ctx.config.maxPageSize),
    after: decodeCursor(list, raw.after, order.kind),
  };
  const argsKey = JSON.stringify([order.name, args.size, args.after]);
  const page = await ctx.loaders.messagesPageBySessionId.load({ id: session.id, args, argsKey });
  return toConnection(
    page,
    Boolean(raw.after),
    (m) => encodeCursor(list, cursorKeyOf(order, m)),
    async () => (await ctx.loaders.messageStatsBySessionId.load(session.id)).count,
  );
}
