import { anyRowSql, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageRequest } from '../pagination/page-args';
import { edgeFlagsOf, Page, toPage } from '../pagination/connection';
import { RelationColumn } from '../sessions/session.relations';
import { MessageModel, messageRows } from './message.rows';

export type MessageOrderName = 'CREATED_AT_ASC' | 'CREATED_AT_DESC';

export const MESSAGE_ORDERS: Record<MessageOrderName, KeysetOrder<MessageModel>> = {
  CREATED_AT_ASC: { name: 'CREATED_AT_ASC', column: 'created_at', desc: false, kind: 'time', valueOf: (m) => m.createdAt },
  CREATED_AT_DESC: { name: 'CREATED_AT_DESC', column: 'created_at', desc: true, kind: 'time', valueOf: (m) => m.createdAt },
};

export interface MessagesPageArgs extends PageRequest {
  order: KeysetOrder<MessageModel>;
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
 * `Session.messages` for one set of arguments, as a column of the sessions' relations statement:
 * each session's page (one row more than asked, for the paging direction's flag) as a JSON list,
 * walking the `(session_id, created_at, id)` index from the cursor; with cursors, also whether the
 * session's list goes on beyond them.
 */
export function messagesPageColumn(args: MessagesPageArgs): RelationColumn<Page<MessageModel>> {
  return {
    sql(params) {
      const where = windowSql(args.order, 'm', args, params);
      const tail = `ORDER BY ${orderSql(args.order, 'm', args.backward)} LIMIT ${params.limit(args.size + 1)}`;
      // The two branches of `listedMessages` exclude each other (a session is live or not), so
      // the rows are those of one branch, in its order.
      const rows = messageRows.jsonList(listedMessages(messageRows.select('m'), where, tail));
      const flags = edgeFlagsSql(args.order, 'm', args, params, (c, o) =>
        anyRowSql(`(${listedMessages('1', [c], `ORDER BY ${o} LIMIT 1`)}) nearest`, 'TRUE'),
      );
      return flags ? `json_build_object('rows', ${rows}, 'flags', (SELECT row_to_json(f) FROM (SELECT ${flags}) f))` : rows;
    },
    decode(value) {
      if (value === null || Array.isArray(value)) return toPage((value ?? []) as MessageModel[], args);
      const { rows, flags } = value as { rows: MessageModel[]; flags: Record<string, unknown> };
      return toPage(rows, args, edgeFlagsOf(flags));
    },
  };
}

/** `Session.messageCount`: the messages the session lists (counted on the live-messages index). */
export const MESSAGE_COUNT_COLUMN: RelationColumn<number> = {
  sql: () => `(SELECT count(*)::int FROM (${listedMessages('1', [], '')}) c)`,
  decode: (value) => (value ?? 0) as number,
};

/** `Session.lastMessage`: the newest message the session lists, or null. */
export const LAST_MESSAGE_COLUMN: RelationColumn<MessageModel | null> = {
  // The two branches of `listedMessages` exclude each other: at most one row.
  sql: () => messageRows.jsonRow(listedMessages(messageRows.select('m'), [], 'ORDER BY m.created_at DESC, m.id DESC LIMIT 1')),
  decode: (value) => (value ?? null) as MessageModel | null,
};
