import DataLoader from 'dataloader';
import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { argsLoader } from '../pagination/args-loader';
import { Page } from '../pagination/connection';
import { SqlParams } from '../pagination/sql-params';
import { LoadRelation, SessionFieldPrefetch } from '../sessions/session.relations';
import { SessionModel, sessionRows } from '../sessions/session.rows';
import { sessionScope } from '../sessions/session.scope';
import { MessageModel, messageRows } from './message.rows';
import { MessagesArgs, messagesPageArgs } from './message.pages';
import { LAST_MESSAGE_COLUMN, MESSAGE_COUNT_COLUMN, MessagesPageArgs, messagesPageColumn } from './message.sql';

export function createMessageLoaders(
  db: Queryable,
  viewer: Viewer,
  relations: LoadRelation,
  sessionById: DataLoader<string, SessionModel | null>,
) {
  /**
   * Messages in sessions the viewer may see, soft-deleted ones (or ones in a soft-deleted
   * session) included; `Query.message` hides those. The session rides along and primes
   * `sessionById`, which `Message.session` and the deleted-session check then read.
   */
  const messageById = loader<string, MessageModel | null>('messageById', async (ids) => {
    const params = new SqlParams();
    const sql = `SELECT ${messageRows.select('m')}, ${sessionRows.select('s', 'session_')}
      FROM messages m JOIN sessions s ON s.id = m.session_id
      WHERE m.id = ANY(${params.add(ids)}::uuid[]) AND ${params.named(sessionScope(viewer, 's'))}`;
    const rows = await db.query<Record<string, unknown>>(sql, params.values);
    const messages = rows.map((row) => {
      const session = sessionRows.fromRow(row, 'session_');
      sessionById.prime(session.id, session);
      return messageRows.fromRow(row);
    });
    return byKeys(ids, messages, (m) => m.id);
  });
  /** Every message a page or a session's newest message brought is `messageById`'s too. */
  const primed = (messages: MessageModel[]) => {
    for (const message of messages) messageById.prime(message.id, message);
    return messages;
  };

  return {
    messageById,
    primeMessages: primed,

    /** `Session.messages`: each session's page, for the same arguments, in one column of the
     * sessions' relations statement. */
    messagesPageBySessionId: argsLoader<MessagesPageArgs, Page<MessageModel>>('messagesPageBySessionId', async (ids, args) =>
      (await relations(ids, messagesPageColumn(args))).map((page) => (primed(page.rows), page)),
    ),

    /** Messages each session lists (none for a session out of scope). */
    messageCountBySessionId: loader<string, number>('messageCountBySessionId', (ids) => relations(ids, MESSAGE_COUNT_COLUMN)),

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
    messages(raw) {
      const { args, argsKey } = messagesPageArgs(raw as MessagesArgs, maxPageSize);
      return {
        column: messagesPageColumn(args),
        prime: (id, value) => {
          const page = value as Page<MessageModel>;
          loaders.primeMessages(page.rows);
          loaders.messagesPageBySessionId.prime({ id, args, argsKey }, page);
        },
      };
    },
    messageCount: () => ({
      column: MESSAGE_COUNT_COLUMN,
      prime: (id, value) => loaders.messageCountBySessionId.prime(id, value as number),
    }),
    lastMessage: () => ({
      column: LAST_MESSAGE_COLUMN,
      prime: (id, value) => loaders.lastMessageBySessionId.prime(id, value ? loaders.primeMessages([value as MessageModel])[0] : null),
    }),
  };
}
