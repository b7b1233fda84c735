import { Viewer } from '../auth/viewer';
import { anyRowSql, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageRequest } from '../pagination/page-args';
import { SqlParams } from '../pagination/sql-params';
import { sessionScope } from '../sessions/session.scope';
import { Message } from './message.entity';
import { messageColumns } from './message.rows';

export type MessageOrderName = 'CREATED_AT_ASC' | 'CREATED_AT_DESC';

export const MESSAGE_ORDERS: Record<MessageOrderName, KeysetOrder<Message>> = {
  CREATED_AT_ASC: { name: 'CREATED_AT_ASC', column: 'created_at', desc: false, kind: 'time', valueOf: (m) => m.createdAt },
  CREATED_AT_DESC: { name: 'CREATED_AT_DESC', column: 'created_at', desc: true, kind: 'time', valueOf: (m) => m.createdAt },
};

export interface MessagesPageArgs extends PageRequest {
  order: KeysetOrder<Message>;
}

/**
 * The messages a session `s` lists, as `select … tail` over messages alias `m`: a live
 * session's messages that are not deleted; a soft-deleted session's messages deleted together
 * with it (same stamp), never those deleted on their own before. Two branches gated by the
 * session's state rather than one `m.deleted_at IS NOT DISTINCT FROM s.deleted_at`: the planner
 * cannot estimate that condition, guesses one row, and then reads and sorts a session's every
 * message instead of walking the `(session_id, created_at, id)` index to the LIMIT.
 */
export function listedMessages(select: string, conditions: string[], tail: string): string {
  const where = [`m.session_id = s.id`, ...conditions].join(' AND ');
  return `(SELECT ${select} FROM messages m WHERE s.deleted_at IS NULL AND m.deleted_at IS NULL AND ${where} ${tail})
    UNION ALL
    (SELECT ${select} FROM messages m WHERE s.deleted_at IS NOT NULL AND m.deleted_at = s.deleted_at AND ${where} ${tail})`;
}

/**
 * The same page of messages for many sessions in one statement: each session (in the viewer's
 * scope) takes its page with `CROSS JOIN LATERAL … LIMIT`, walking the
 * `(session_id, created_at, id)` index from the cursor, all inside an uncorrelated sub-select.
 * With cursors, each session also says whether its list goes on beyond them, and the page is
 * left-joined so a session with an empty page still carries that.
 */
export function messagesPagesStatement(viewer: Viewer, sessionIds: string[], args: MessagesPageArgs) {
  const params = new SqlParams();
  const ids = params.add(sessionIds);
  const scope = params.named(sessionScope(viewer, 's'));
  const where = windowSql(args.order, 'm', args, params);
  const tail = `ORDER BY ${orderSql(args.order, 'm', args.backward)} LIMIT ${params.add(args.size + 1)}`;
  const flags = edgeFlagsSql(args.order, 'm', args, params, (c, o) =>
    anyRowSql(`(${listedMessages('1', [c], `ORDER BY ${o} LIMIT 1`)}) nearest`, 'TRUE'),
  );
  const page = listedMessages(messageColumns('m'), where, tail);
  const join = flags ? `LEFT JOIN LATERAL (${page}) x ON TRUE` : `CROSS JOIN LATERAL (${page}) x`;
  const sql = `SELECT p.* FROM (
      SELECT k.id AS parent_id, k.ord, ${flags ? `${flags}, ` : ''}x.* FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS k(id, ord)
      JOIN sessions s ON s.id = k.id AND ${scope}
      ${join}
    ) p ORDER BY p.ord, ${orderSql(args.order, 'p', args.backward)}`;
  return { sql, params: params.values };
}

/**
 * Per session, what `messageCount` and `lastMessage` need, in one statement, so a list
 * asking for both pays one statement for all its sessions.
 */
export function messageStatsStatement(viewer: Viewer, sessionIds: string[]) {
  const params = new SqlParams();
  const ids = params.add(sessionIds);
  const scope = params.named(sessionScope(viewer, 's'));
  const sql = `SELECT s.id AS stats_session_id, c.n AS message_count, ${messageColumns('lm', 'last_')}
    FROM sessions s
    CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM (${listedMessages('1', [], '')}) listed) c
    LEFT JOIN LATERAL (${listedMessages('m.*', [], 'ORDER BY m.created_at DESC, m.id DESC LIMIT 1')}) lm ON TRUE
    WHERE s.id = ANY(${ids}::uuid[]) AND ${scope}`;
  return { sql, params: params.values };
}
