import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { audioId } from '../common/value-ids';
import { requiredNow } from '../errors';
import { parseId } from '../ids';
import { sessionPropertiesOf } from '../sessions/session.columns';
import { MessageModel } from './message.rows';
import { messagesOfSession } from './message.pages';
import { usageOf } from './message-usage';

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
    message: async (_, args, ctx) =>
      visibleMessage(ctx, await ctx.loaders.messageById.load(parseId(args.id))),
  },
  Message: {
    // Visible messages belong to visible sessions (same scope); one a concurrent purge removed is NOT_FOUND.
    session: (message, _, ctx, info) => {
      // A session a page read cut serves a selection that reads no more of it.
      return requiredNow(ctx.loaders.sessionById.getFor(message.sessionId, sessionPropertiesOf(info.fieldNodes, info.fragments)), 'Session', message.sessionId);
    },
    audio: async (message, _, ctx) =>
      message.audioKey == null
        ? null
        : {
            id: audioId(message.audioKey),
            key: message.audioKey,
            url: await ctx.storage.url(message.audioKey),
            // The messages_audio_complete check makes the three audio columns null together.
            contentType: message.audioContentType!,
            byteSize: message.audioByteSize!,
          },
    usage: (message) => usageOf(message),
  },
  Session: {
    messages: (session, args, ctx, info) => messagesOfSession(ctx, session, args, info),
    messageCount: (session, _, ctx) => ctx.loaders.messageCountBySessionId.get(session.id),
    lastMessage: (session, _, ctx) => ctx.loaders.lastMessageBySessionId.get(session.id),
    usage: (session, _, ctx) => ctx.loaders.usageBySessionId.load(session.id),
  },
  User: {
    usage: (user, _, ctx) => ctx.loaders.usageByUserId.load(user.id),
  },
  MessageChange: {
    // An UPDATED carries no message (most followers apply `delta`): read only when selected, batched.
    message: async (change, _, ctx) =>
      change.message !== undefined ? change.message : visibleMessage(ctx, await ctx.loaders.messageById.load(change.messageId)),
  },
};
