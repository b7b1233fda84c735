import type { MessageOrder } from '../generated/schema-types';
import { anyRowSql, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageRequest } from '../pagination/page-args';
import { edgeFlagsOf, Page, toPage } from '../pagination/connection';
import { RelationColumn } from '../sessions/session.relations';
import { MessageModel, messageRows } from './message.rows';

export type MessageOrderName = MessageOrder;

/** Every value of the schema's `MessageOrder`: a new one is a type error here until it has a keyset. */
export const MESSAGE_ORDERS: Record<MessageOrderName, KeysetOrder<MessageModel>> = {
  CREATED_AT_ASC: { name: 'CREATED_AT_ASC', column: 'created_at', desc: false, kind: 'time', valueOf: (m) => m.createdAt },
  CREATED_AT_DESC: { name: 'CREATED_AT_DESC', column: 'created_at', desc: true, kind: 'time', valueOf: (m) => m.createdAt },
};

export interface MessagesPageArgs extends PageRequest {
  order: KeysetOrder<MessageModel>;
  /** Whether the page reads if it goes on (`pageInfo` selected): one row more, and the edge flags. */
  probe: boolean;
  /** The read-model properties the page's messages carry (what the selection reads); null: all. */
  properties: readonly (keyof MessageModel)[] | null;
}

/** Which messages a live session lists, and which a soft-deleted one does. */
const LIVE_SESSION = 'm.deleted_at IS NULL';
const DELETED_SESSION = 'm.deleted_at = s.deleted_at';

/**
 * A value over the messages session `s` lists — a live session's messages that are not deleted; a
 * soft-deleted session's messages deleted together with it (same stamp), never those deleted on
 * their own before — where `value(where)` is a sub-select over messages `m` under `where`. One
 * sub-select per state under a CASE, so only the branch that applies runs: not one
 * `m.deleted_at IS NOT DISTINCT FROM s.deleted_at` (the planner cannot estimate it, guesses one row,
 * then reads and sorts a session's every message instead of walking the `(session_id, created_at,
 * id)` index to the LIMIT), and not a UNION of gated branches (an append and one-time filters on
 * every row: a tenth of the 100-session page statement). `kept`: a live session's value where it is
 * kept rather than read from the messages (its count, `session_message_counts`).
 */
export function listedMessages(value: (where: string) => string, kept?: string): string {
  return `CASE WHEN s.deleted_at IS NULL THEN ${kept ?? value(`${LIVE_SESSION} AND m.session_id = s.id`)} ELSE ${value(`${DELETED_SESSION} AND m.session_id = s.id`)} END`;
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
      const tail = `ORDER BY ${orderSql(args.order, 'm', args.backward)} LIMIT ${params.limit(args.size + (args.probe ? 1 : 0))}`;
      const rows = listedMessages((listed) => messageRows.jsonList(`SELECT ${messageRows.jsonSelect('m', args.properties)} FROM messages m WHERE ${[listed, ...where].join(' AND ')} ${tail}`));
      const flags = args.probe
        ? edgeFlagsSql(args.order, 'm', args, params, (c, o) => listedMessages((listed) => anyRowSql('messages m', `${listed} AND ${c}`, o)))
        : null;
      return flags ? `json_build_object('rows', ${rows}, 'flags', (SELECT row_to_json(f) FROM (SELECT ${flags}) f))` : rows;
    },
    decode(value) {
      if (value === null || Array.isArray(value)) return toPage(messageRows.fromJson((value ?? []) as MessageModel[]), args);
      const { rows, flags } = value as { rows: MessageModel[]; flags: Record<string, unknown> };
      return toPage(messageRows.fromJson(rows), args, edgeFlagsOf(flags));
    },
  };
}

/**
 * `Session.messageCount`: the messages the session lists. A live session's is kept in
 * `session_message_counts` by the messages' triggers (migration SessionMessageCounts): one row by
 * key instead of a walk over its messages; a soft-deleted session's is counted.
 */
export const MESSAGE_COUNT_COLUMN: RelationColumn<number> = {
  sql: () =>
    listedMessages(
      (listed) => `(SELECT count(*)::int FROM messages m WHERE ${listed})`,
      'coalesce((SELECT c.live FROM session_message_counts c WHERE c.session_id = s.id), 0)',
    ),
  decode: (value) => (value ?? 0) as number,
};

/** `Session.lastMessage`: the newest message the session lists, or null. */
export const LAST_MESSAGE_COLUMN: RelationColumn<MessageModel | null> = {
  // The two branches of `listedMessages` exclude each other: at most one row.
  sql: () => listedMessages((listed) => messageRows.jsonRow(`SELECT ${messageRows.jsonSelect('m')} FROM messages m WHERE ${listed} ORDER BY m.created_at DESC, m.id DESC LIMIT 1`)),
  decode: (value) => messageRows.fromJson([(value ?? null) as MessageModel | null])[0],
};
