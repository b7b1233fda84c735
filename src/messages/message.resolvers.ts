import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { required } from '../errors';
import { parseId } from '../ids';
import { SessionModel } from '../sessions/session.rows';
import { MessageModel } from './message.rows';
import { messagesOfSession, MessagesArgs } from './message.pages';

/** What `message(id)` and `node(id)` show of a loaded message: null if deleted or in a deleted session
 * (`messageById` primed the session, so this costs no statement). */
export async function visibleMessage(ctx: Context, message: MessageModel | null): Promise<MessageModel | null> {
  if (!message || message.deletedAt) return null;
  const session = await ctx.loaders.sessionById.load(message.sessionId);
  return session && !session.deletedAt ? message : null;
}

/** Queries and type fields of this feature (read API). */
export const messageResolvers: Resolvers = {
  Query: {
    /** Null for a deleted message or one in a deleted session; `messageById` primed the session. */
    message: async (_: unknown, args: { id: string }, ctx: Context) =>
      visibleMessage(ctx, await ctx.loaders.messageById.load(parseId(args.id))),
  },
  Message: {
    // Visible messages belong to visible sessions (same scope), so the session is always there.
    session: (message: MessageModel, _: unknown, ctx: Context) =>
      required(ctx.loaders.sessionById.load(message.sessionId), `session of message ${message.id}`),
    audio: async (message: MessageModel, _: unknown, ctx: Context) =>
      message.audioKey == null
        ? null
        : {
            key: message.audioKey,
            url: await ctx.storage.url(message.audioKey),
            // The messages_audio_complete check makes the three audio columns null together.
            contentType: message.audioContentType!,
            byteSize: message.audioByteSize!,
          },
  },
  Session: {
    messages: (session: SessionModel, args: MessagesArgs, ctx: Context) => messagesOfSession(ctx, session, args),
    messageCount: (session: SessionModel, _: unknown, ctx: Context) => ctx.loaders.messageCountBySessionId.get(session.id),
    lastMessage: (session: SessionModel, _: unknown, ctx: Context) => ctx.loaders.lastMessageBySessionId.get(session.id),
  },
};
