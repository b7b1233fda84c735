import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { Loader, loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { argsLoader } from '../pagination/args-loader';
import { Page } from '../pagination/connection';
import { fieldNodesOf } from '../pagination/selection';
import { SqlParams } from '../db/sql-params';
import { LoadRelation, SessionFieldPrefetch } from '../sessions/session.relations';
import { SessionModel, sessionRows } from '../sessions/session.rows';
import { sessionScopeOfRow } from '../sessions/session.scope';
import { byPosition, SharedReads, viewerKeysRelation, viewerLoader } from '../db/viewer-keys';
import { MessageModel, messageRows } from './message.rows';
import { tailsForViewers } from './message-tails';
import { MessagesArgs, selectedMessagesPageArgs } from './message.page-args';
import { LAST_MESSAGE_COLUMN, MESSAGE_COUNT_COLUMN, MessagesPageArgs, messagesPageColumn } from './message.sql';
import { USAGE_COLUMN, usageByUserStatement, usageOfRow } from './message-usage.sql';
import type { TokenUsage } from '../generated/schema-types';

export function createMessageLoaders(
  db: Queryable,
  viewer: Viewer,
  relations: LoadRelation,
  sessionById: Loader<string, SessionModel | null>,
  shared?: SharedReads,
) {
  /**
   * Messages in sessions the viewer may see, soft-deleted ones (or ones in a soft-deleted
   * session) included; `Query.message` hides those. The session rides along and primes
   * `sessionById`, which `Message.session` and the deleted-session check then read.
   */
  const messageById = viewerLoader<string, { message: MessageModel; session: SessionModel } | null, MessageModel | null>(
    'messageById',
    viewer,
    shared,
    async (keys) => {
      const params = new SqlParams();
      const sql = `SELECT k.nth AS "_nth", ${messageRows.select('m')}, ${sessionRows.select('s', 'session_')}
        FROM ${viewerKeysRelation(params, keys, 'k')} JOIN messages m ON m.id = k.key JOIN sessions s ON s.id = m.session_id
        WHERE ${sessionScopeOfRow('s', 'k.viewer_id', 'k.viewer_admin')}`;
      const rows = await db.query<Record<string, unknown>>(sql, params.values);
      return byPosition(keys.length, rows, (row) => ({ message: messageRows.fromRow(row) as MessageModel, session: sessionRows.fromRow(row, 'session_') }));
    },
    (found) => {
      if (found) sessionById.prime(found.session.id, found.session);
      return found?.message ?? null;
    },
  );
  /** Every message a page or a session's newest message brought is `messageById`'s too. */
  const primed = (messages: MessageModel[]) => {
    for (const message of messages) messageById.prime(message.id, message);
    return messages;
  };

  return {
    messageById,
    primeMessages: primed,

    /** A message's content from a character offset on (key: `tailKey`), for `messageChanged`'s
     * appends: those of a live batch's viewers in one statement. */
    messageTail: viewerLoader('messageTail', viewer, shared, tailsForViewers(db)),

    /** `Session.messages`: each session's page, for the same arguments, in one column of the
     * sessions' relations statement. */
    messagesPageBySessionId: argsLoader<MessagesPageArgs, Page<MessageModel>>('messagesPageBySessionId', async (ids, args) =>
      (await relations(ids, messagesPageColumn(args))).map((page) => (args.properties ? page : (primed(page.rows), page))),
    ),

    /** Messages each session lists (none for a session out of scope). */
    messageCountBySessionId: loader<string, number>('messageCountBySessionId', (ids) => relations(ids, MESSAGE_COUNT_COLUMN)),

    /** `Session.usage`: tokens of the messages each session lists, summed (a column of the relations statement). */
    usageBySessionId: loader<string, TokenUsage>('usageBySessionId', (ids) => relations(ids, USAGE_COLUMN)),

    /** `User.usage`: tokens of the live messages of each user's live sessions in the viewer's scope, one statement per batch. */
    usageByUserId: loader<string, TokenUsage>('usageByUserId', async (ids) => {
      const { sql, params } = usageByUserStatement(viewer, ids);
      const rows = await db.query<{ id: string; input: unknown; output: unknown }>(sql, params);
      return byKeys(ids, rows, (r) => r.id).map(usageOfRow);
    }),

    /** The newest message each session lists. */
    lastMessageBySessionId: loader<string, MessageModel | null>('lastMessageBySessionId', async (ids) =>
      (await relations(ids, LAST_MESSAGE_COLUMN)).map((message) => (message ? primed([message])[0] : null)),
    ),
  };
}

type MessageLoaders = ReturnType<typeof createMessageLoaders>;

/** `Session.messages`, `messageCount` and `lastMessage` fetched with a list's page statement. */
export function messagePrefetch(loaders: MessageLoaders, maxPageSize: number): SessionFieldPrefetch {
  return {
    messages(raw, { field, fragments }) {
      const { args, argsKey } = selectedMessagesPageArgs(raw as MessagesArgs, maxPageSize, fieldNodesOf(field), fragments);
      return {
        key: argsKey,
        column: messagesPageColumn(args),
        prime: (id, value) => {
          const page = value as Page<MessageModel>;
          // Messages cut to a selection's properties are this page's only, never `messageById`'s.
          if (!args.properties) loaders.primeMessages(page.rows);
          loaders.messagesPageBySessionId.prime({ id, args, argsKey }, page);
        },
      };
    },
    messageCount: () => ({
      column: MESSAGE_COUNT_COLUMN,
      prime: (id, value) => loaders.messageCountBySessionId.prime(id, value as number),
    }),
    usage: () => ({
      column: USAGE_COLUMN,
      prime: (id, value) => loaders.usageBySessionId.prime(id, value as TokenUsage),
    }),
    lastMessage: () => ({
      column: LAST_MESSAGE_COLUMN,
      prime: (id, value) => loaders.lastMessageBySessionId.prime(id, value ? loaders.primeMessages([value as MessageModel])[0] : null),
    }),
  };
}
