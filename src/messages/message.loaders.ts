import { loader } from '../db/loader';
import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { argsLoader } from '../pagination/args-loader';
import { Page } from '../pagination/connection';
import { pagesOfParents } from '../pagination/page-sql';
import { SqlParams } from '../pagination/sql-params';
import { Session } from '../sessions/session.entity';
import { sessionColumns, toSession } from '../sessions/session.rows';
import { sessionScope } from '../sessions/session.scope';
import { Message } from './message.entity';
import { messageColumns, toMessage } from './message.rows';
import { MessagesPageArgs, messagesPagesStatement, messageStatsStatement } from './message.sql';

/** What `Session.messageCount` and `Session.lastMessage` read. */
export interface MessageStats {
  count: number;
  last: Message | null;
}

export function createMessageLoaders(
  dataSource: DataSource,
  viewer: Viewer,
  sessionById: DataLoader<string, Session | null>,
) {
  /**
   * Messages in sessions the viewer may see, soft-deleted ones (or ones in a soft-deleted
   * session) included; `Query.message` hides those. The session rides along and primes
   * `sessionById`, which `Message.session` and the deleted-session check then read.
   */
  const messageById = loader<string, Message | null>('messageById', async (ids) => {
    const params = new SqlParams();
    const sql = `SELECT ${messageColumns('m')}, ${sessionColumns('s', 'session_')}
      FROM messages m JOIN sessions s ON s.id = m.session_id
      WHERE m.id = ANY(${params.add(ids)}::uuid[]) AND ${params.named(sessionScope(viewer, 's'))}`;
    const rows: Record<string, unknown>[] = await dataSource.query(sql, params.values);
    const messages = rows.map((row) => {
      const session = toSession(row, 'session_');
      sessionById.prime(session.id, session);
      return toMessage(row);
    });
    return byKeys(ids, messages, (m) => m.id);
  });

  return {
    messageById,

    /** `Session.messages`: each session's page, for the same arguments, in one statement. */
    messagesPageBySessionId: argsLoader<MessagesPageArgs, Page<Message>>('messagesPageBySessionId', async (ids, args) => {
      const { sql, params } = messagesPagesStatement(viewer, ids, args);
      const rows: Record<string, any>[] = await dataSource.query(sql, params);
      return pagesOfParents(ids, rows, args, (row) => {
        const message = toMessage(row);
        messageById.prime(message.id, message);
        return message;
      });
    }),

    /** Count and newest listed message per session; a session out of scope has none. */
    messageStatsBySessionId: loader<string, MessageStats>('messageStatsBySessionId', async (ids) => {
      const { sql, params } = messageStatsStatement(viewer, [...ids]);
      const rows: Record<string, any>[] = await dataSource.query(sql, params);
      const stats = rows.map((row) => {
        const last = row.last_id === null ? null : toMessage(row, 'last_');
        if (last) messageById.prime(last.id, last);
        return { sessionId: row.stats_session_id as string, count: row.message_count as number, last };
      });
      return byKeys(ids, stats, (s) => s.sessionId).map((s) => s ?? { count: 0, last: null });
    }),
  };
}
