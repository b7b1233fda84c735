import { Viewer } from '../auth/viewer';
import { highlightSql, matchesSearch, messageVector, searchQuery } from '../db/text-search';
import { MessageModel, messageRows } from '../messages/message.rows';
import { anyRowSql, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageRequest } from '../pagination/page-args';
import { SqlParams } from '../db/sql-params';
import { filterConditions, SessionFilter } from '../sessions/session.filter';
import { sessionRows } from '../sessions/session.rows';
import { sessionScope } from '../sessions/session.scope';

/** A search result: the message and how well it matches. */
export interface SearchHit {
  id: string;
  message: MessageModel;
  rank: number;
  highlight: string;
}

/** Best match first; equal ranks by id, descending. The rank is a column of the `hits` relation. */
export const BY_RANK: KeysetOrder<SearchHit> = { name: 'RANK', column: 'rank', desc: true, kind: 'float8', valueOf: (hit) => hit.rank };

export interface SearchPageArgs extends PageRequest {
  text: string;
  filter: SessionFilter;
}

/** Every match the viewer may see, with its rank, as a sub-select; `query` is the tsquery expression. */
function hitsSql(viewer: Viewer, text: string, filter: SessionFilter, params: SqlParams): { hits: string; query: string } {
  const query = searchQuery(params.add(text));
  const where = [
    matchesSearch(messageVector('m'), query),
    // The messages a session lists: a live one's live messages, a deleted one's deleted with it.
    'm.deleted_at IS NOT DISTINCT FROM s.deleted_at',
    params.named(sessionScope(viewer, 's')),
    ...filterConditions(filter, 's', params),
  ];
  const hits = `SELECT m.id, m.session_id, ts_rank(${messageVector('m')}, ${query})::float8 AS rank
    FROM messages m JOIN sessions s ON s.id = m.session_id WHERE ${where.join(' AND ')}`;
  return { hits, query };
}

/** The number of matches on its own, for a total the page statement did not fetch. */
export function searchCountStatement(viewer: Viewer, text: string, filter: SessionFilter): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const { hits } = hitsSql(viewer, text, filter, params);
  return { sql: `SELECT count(*)::int AS total_count FROM (${hits}) h`, params: params.values };
}

/**
 * `Query.searchMessages` as one statement. `hits` is every match the viewer may see with its rank
 * (found through the GIN index on the content, scoped and filtered on the joined session: the
 * messages `Session.messages` lists of the sessions `sessions(filter)` lists); the page, its count
 * and edge flags read it (PostgreSQL computes it once when more than one does), and only the
 * page's rows are joined back for their columns, their session (to prime `sessionById`) and the
 * highlight, the costly part. The statement returns at least one row (page columns null when the
 * page is empty), carrying the count and flags.
 */
export function searchPageStatement(viewer: Viewer, args: SearchPageArgs, withCount: boolean): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const { hits, query } = hitsSql(viewer, args.text, args.filter, params);
  const window = windowSql(BY_RANK, 'h', args, params);
  const page = `SELECT h.* FROM hits h${window.length ? ` WHERE ${window.join(' AND ')}` : ''}
    ORDER BY ${orderSql(BY_RANK, 'h', args.backward)} LIMIT ${params.limit(args.size + 1)}`;
  const flags = edgeFlagsSql(BY_RANK, 'h', args, params, (c, o) => anyRowSql('hits h', c, o));
  const extras = [...(withCount ? ['(SELECT count(*)::int FROM hits) AS total_count'] : []), ...(flags ? [flags] : [])];
  const select = `${messageRows.select('m')}, ${sessionRows.select('s', 'session_')}, p.rank, ${highlightSql('m.content', query)} AS highlight`;
  const rows = '(page p JOIN messages m ON m.id = p.id JOIN sessions s ON s.id = p.session_id)';
  const sql = extras.length
    ? `WITH hits AS (${hits}), page AS (${page}), extra AS (SELECT ${extras.join(', ')})
       SELECT ${select}, extra.* FROM extra LEFT JOIN ${rows} ON TRUE ORDER BY ${orderSql(BY_RANK, 'p', args.backward)}`
    : `WITH hits AS (${hits}), page AS (${page}) SELECT ${select} FROM ${rows} ORDER BY ${orderSql(BY_RANK, 'p', args.backward)}`;
  return { sql, params: params.values };
}
