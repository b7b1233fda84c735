import { Context } from '../context';
import { parseId } from '../pagination/ids';
import { Session } from '../sessions/session.entity';
import { Message } from './message.entity';
import { messagesOfSession, MessagesArgs } from './message.pages';

/** Queries and type fields of this feature (read API). */
export const messageResolvers = {
  Query: {
    /** Null for a deleted message or one in a deleted session; `messageById` primed the session. */
    message: async (_: unknown, args: { id: string }, ctx: Context) => {
      const message = await ctx.loaders.messageById.load(parseId(args.id));
      if (!message || message.deletedAt) return null;
      const session = await ctx.loaders.sessionById.load(message.sessionId);
      return session && !session.deletedAt ? message : null;
    },
  },
  Message: {
    session: (message: Message, _: unknown, ctx: Context) => ctx.loaders.sessionById.load(message.sessionId),
    audio: (message: Message, _: unknown, ctx: Context) =>
      message.audioKey == null
        ? null
        : {
            key: message.audioKey,
            url: ctx.storage.url(message.audioKey),
            contentType: message.audioContentType,
            byteSize: message.audioByteSize,
          },
  },
  Session: {
    messages: (session: Session, args: MessagesArgs, ctx: Context) => messagesOfSession(ctx, session, args),
    messageCount: async (session: Session, _: unknown, ctx: Context) =>
      (await ctx.loaders.messageStatsBySessionId.load(session.id)).count,
    lastMessage: async (session: Session, _: unknown, ctx: Context) =>
      (await ctx.loaders.messageStatsBySessionId.load(session.id)).last,
  },
};
