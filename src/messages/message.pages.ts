import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { Connection, Page, toConnection } from '../pagination/connection';
import { encodeCursor } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { SessionModel } from '../sessions/session.rows';
import { MessageModel } from './message.rows';
import { MessagesArgs, selectedMessagesPageArgs } from './message.page-args';

/** `Session.messages`: batched across sessions; the total is the session's `messageCount`. */
export function messagesOfSession(
  ctx: Context,
  session: SessionModel,
  raw: MessagesArgs,
  info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>,
): Connection<MessageModel> | Promise<Connection<MessageModel>> {
  const { list, args, argsKey } = selectedMessagesPageArgs(raw, ctx.config.maxPageSize, info.fieldNodes, info.fragments);
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
