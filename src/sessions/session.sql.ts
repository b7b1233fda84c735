import { Viewer } from '../auth/viewer';
import { anyRowSql, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageRequest } from '../pagination/page-args';
import { pageWithExtras } from '../pagination/page-sql';
import { SqlParams } from '../db/sql-params';
import { userRows } from '../users/user.rows';
import { filterConditions, SessionFilter } from './session.filter';
import { RelationColumn } from './session.relations';
import { SessionModel, sessionRows } from './session.rows';
import { sessionScope } from './session.scope';

/** One page request over sessions: what to list, in which order, and the window and size. */
export interface SessionsPageArgs extends PageRequest {
  filter: SessionFilter;
  order: KeysetOrder<SessionModel>;
}

export interface Statement {
  sql: string;
  params: unknown[];
}

/** The viewer's scope and the filter, on sessions alias `s`: everything but position. */
function listConditions(viewer: Viewer, filter: SessionFilter, params: SqlParams): string[] {
  return [params.named(sessionScope(viewer, 's')), ...filterConditions(filter, 's', params)];
}

/**
 * `Query.sessions` as one statement: the page (one row more than asked, for the paging
 * direction's flag), and when selected the total count, each session's owner and its relations
 * (skills, messages, counts, node sync), so a dashboard pays for none in statements of their own; with cursors, whether the list goes on
 * beyond them (exact `hasPreviousPage`/`hasNextPage`). With the count or flags, the statement
 * always returns at least one row (page columns null when the page is empty).
 */
export function sessionsPageStatement(
  viewer: Viewer,
  args: SessionsPageArgs,
  options: {
    withCount: boolean;
    withOwner: boolean;
    relations?: RelationColumn<unknown>[];
    probe?: boolean;
    /** The properties the page reads of each session and of its owner (session.columns.ts,
     * user.columns.ts); null or absent: whole read models. */
    properties?: readonly string[] | null;
    ownerProperties?: readonly string[] | null;
  },
): Statement {
  const params = new SqlParams();
  // Without `pageInfo` selected, nothing reads whether the list goes on: no probe row, no flags
  // (at 10 sessions the probe row was a tenth of the statement's relations).
  const probe = options.probe ?? true;
  const relations = options.relations ?? [];
  const where = listConditions(viewer, args.filter, params);
  const listWhere = where.join(' AND ');
  where.push(...windowSql(args.order, 's', args, params));
  const page = (select: string) => `SELECT ${select} FROM sessions s WHERE ${where.join(' AND ')}
    ORDER BY ${orderSql(args.order, 's', args.backward)} LIMIT ${params.limit(args.size + (probe ? 1 : 0))}`;
  const flags = probe
    ? edgeFlagsSql(args.order, 's', args, params, (c, o) => anyRowSql('sessions s', `${listWhere} AND ${c}`, o))
    : null;
  const extras = [
    ...(options.withCount ? [`(SELECT count(*)::int FROM sessions s WHERE ${listWhere}) AS total_count`] : []),
    ...(flags ? [flags] : []),
  ];
  const sessions = sessionRows.select('s', '', options.properties);
  if (!extras.length && !options.withOwner && !relations.length) return { sql: page(sessions), params: params.values };

  // The page keeps its raw columns (ordered on them); the read models, owners and relations (as
  // the relations statement's columns `r<i>`) are computed outside, for the page's rows only.
  const owner = options.withOwner ? `, ${userRows.select('u', 'owner_', options.ownerProperties)}` : '';
  // Each owner by its key, row by row: joined plainly, a small page of a small users table was
  // hash-joined over a scan of every user, then sorted again (scale 1, 10 sessions: 1 000 rows
  // read for 10). OFFSET 0 keeps the planner from flattening the lookup back into that join.
  const rows = options.withOwner
    ? '(page s LEFT JOIN LATERAL (SELECT * FROM users u WHERE u.id = s.user_id OFFSET 0) u ON TRUE)'
    : 'page s';
  const related = relations.map((column, i) => `, ${column.sql(params)} AS r${i}`).join('');
  const select = `${sessions}${owner}${related}`;
  const outerOrder = orderSql(args.order, 's', args.backward);
  const sql = extras.length
    ? pageWithExtras(page('s.*'), extras, outerOrder, rows, select)
    : `WITH page AS (${page('s.*')}) SELECT ${select} FROM ${rows} ORDER BY ${outerOrder}`;
  return { sql, params: params.values };
}

/** The total of `Query.sessions` on its own, for a count the page statement did not fetch. */
export function sessionsCountStatement(viewer: Viewer, filter: SessionFilter): Statement {
  const params = new SqlParams();
  const where = listConditions(viewer, filter, params).join(' AND ');
  return {
    sql: `SELECT count(*)::int AS total_count FROM sessions s WHERE ${where}`,
    params: params.values,
  };
}

/** How sessions hang off a parent in the per-parent statements below. */
export type SessionParent = 'user' | 'skill';

function parentFrom(parent: SessionParent, ref: string): { from: string; condition: string } {
  return parent === 'user'
    ? { from: 'sessions s', condition: `s.user_id = ${ref}` }
    : {
        from: 'session_skills ss JOIN sessions s ON s.id = ss.session_id',
        condition: `ss.skill_id = ${ref}`,
      };
}

/**
 * The same page for many parents in one statement: `unnest` the parent ids and take each
 * one's page with `CROSS JOIN LATERAL … LIMIT`, inside an uncorrelated sub-select. With
 * cursors, each parent also says whether its list goes on beyond them, and the page is
 * left-joined so a parent with an empty page still carries that.
 */
export function sessionsPagesByParentStatement(
  viewer: Viewer,
  parent: SessionParent,
  parentIds: string[],
  args: SessionsPageArgs,
): Statement {
  const params = new SqlParams();
  const ids = params.add(parentIds);
  const { from, condition } = parentFrom(parent, 'k.id');
  const where = [condition, ...listConditions(viewer, args.filter, params)];
  const listWhere = where.join(' AND ');
  where.push(...windowSql(args.order, 's', args, params));
  const page = `SELECT s.* FROM ${from} WHERE ${where.join(' AND ')}
        ORDER BY ${orderSql(args.order, 's', args.backward)} LIMIT ${params.limit(args.size + 1)}`;
  const flags = edgeFlagsSql(args.order, 's', args, params, (c, o) => anyRowSql(from, `${listWhere} AND ${c}`, o));
  const join = flags ? `LEFT JOIN LATERAL (${page}) x ON TRUE` : `CROSS JOIN LATERAL (${page}) x`;
  const sql = `SELECT p.parent_id${flags ? ', p.more_before, p.more_after' : ''}, ${sessionRows.select('p')} FROM (
      SELECT k.id AS parent_id, k.ord, ${flags ? `${flags}, ` : ''}x.* FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS k(id, ord)
      ${join}
    ) p ORDER BY p.ord, ${orderSql(args.order, 'p', args.backward)}`;
  return { sql, params: params.values };
}

/** Visible sessions per parent matching the filter, one `GROUP BY` for all parents. */
export function sessionCountsByParentStatement(
  viewer: Viewer,
  parent: SessionParent,
  parentIds: string[],
  filter: SessionFilter,
): Statement {
  const params = new SqlParams();
  const { from, condition } = parentFrom(parent, `ANY(${params.add(parentIds)}::uuid[])`);
  const key = parent === 'user' ? 's.user_id' : 'ss.skill_id';
  const where = [condition, ...listConditions(viewer, filter, params)];
  const sql = `SELECT ${key} AS parent_id, count(*)::int AS n FROM ${from} WHERE ${where.join(' AND ')} GROUP BY ${key}`;
  return { sql, params: params.values };
}
