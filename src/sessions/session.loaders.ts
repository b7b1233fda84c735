import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { argsLoader } from '../pagination/args-loader';
import { Page } from '../pagination/connection';
import { pagesOfParents } from '../pagination/page-sql';
import { SqlParams } from '../db/sql-params';
import { LIVE_SESSIONS, SessionFilter } from './session.filter';
import { SessionModel, sessionRows } from './session.rows';
import { sessionScopeOfRow } from './session.scope';
import { byPosition, SharedReads, viewerKeysRelation, viewerLoader } from '../db/viewer-keys';
import {
  SessionParent,
  SessionsPageArgs,
  sessionCountsByParentStatement,
  sessionsPagesByParentStatement,
} from './session.sql';

/** The key of `sessionLinks`: a session and the skill and node asked about (null: not asked). */
export const linksKey = (sessionId: string, skillId: string | null, nodeId: string | null) => JSON.stringify([sessionId, skillId, nodeId]);

export function createSessionLoaders(db: Queryable, viewer: Viewer, shared?: SharedReads) {
  /**
   * Sessions the viewer may see, soft-deleted ones included: a message reached through
   * `filter.deleted` must still resolve its session. `Query.session` hides deleted ones.
   * Read per (viewer, id), so a live batch reads those of all its viewers at once.
   */
  const sessionById = viewerLoader<string, SessionModel | null>('sessionById', viewer, shared, async (keys) => {
    const params = new SqlParams();
    const sql = `SELECT k.nth AS "_nth", ${sessionRows.select('s')} FROM ${viewerKeysRelation(params, keys, 'k')}
      JOIN sessions s ON s.id = k.key WHERE ${sessionScopeOfRow('s', 'k.viewer_id', 'k.viewer_admin')}`;
    const rows = await db.query<SessionModel & { _nth?: string }>(sql, params.values);
    return byPosition(keys.length, rows, (session) => session as SessionModel);
  });

  const pagesByParent = (parent: SessionParent) =>
    argsLoader<SessionsPageArgs, Page<SessionModel>>(`sessionsPageBy${parent === 'user' ? 'User' : 'Skill'}Id`, async (ids, args) => {
      const { sql, params } = sessionsPagesByParentStatement(viewer, parent, ids, args);
      const rows = await db.query<Record<string, unknown>>(sql, params);
      return pagesOfParents(ids, rows, args, (row) => {
        const session = sessionRows.fromRow(row);
        sessionById.prime(session.id, session);
        return session;
      });
    });

  const countsByParent = async (parent: SessionParent, ids: readonly string[], filter: SessionFilter) => {
    const { sql, params } = sessionCountsByParentStatement(viewer, parent, [...ids], filter);
    const rows = await db.query<{ parent_id: string; n: number }>(sql, params);
    return byKeys(ids, rows, (r) => r.parent_id).map((r) => r?.n ?? 0);
  };

  /**
   * Whether sessions have a skill link and a node sync row (`sessionChanged`'s skill and node
   * conditions); key: `linksKey(sessionId, skillId, nodeId)`, null for a condition not asked
   * (then true). Null for a session out of scope or gone. A live batch asks for all its viewers'
   * filters at once: one statement.
   */
  const sessionLinks = viewerLoader<string, { skill: boolean; node: boolean } | null>('sessionLinks', viewer, shared, async (keys) => {
    const split = keys.map(({ viewer: v, key }) => {
      const [id, skill, node] = JSON.parse(key) as [string, string | null, string | null];
      return { viewer: v, key: id, skill, node };
    });
    const params = new SqlParams();
    const from = viewerKeysRelation(params, split, 'w', [
      { name: 'skill', type: 'uuid', values: split.map((k) => k.skill) },
      { name: 'node', type: 'text', values: split.map((k) => k.node) },
    ]);
    const rows = await db.query<{ _nth: string; skill: boolean; node: boolean }>(
      `SELECT w.nth AS "_nth",
         w.skill IS NULL OR EXISTS (SELECT 1 FROM session_skills k WHERE k.session_id = s.id AND k.skill_id = w.skill) AS skill,
         w.node IS NULL OR EXISTS (SELECT 1 FROM session_node_sync n WHERE n.session_id = s.id AND n.node_id = w.node) AS node
       FROM ${from} JOIN sessions s ON s.id = w.key WHERE ${sessionScopeOfRow('s', 'w.viewer_id', 'w.viewer_admin')}`,
      params.values,
    );
    return byPosition(keys.length, rows, (row) => ({ skill: row.skill, node: row.node }));
  });

  return {
    sessionById,
    sessionLinks,
    /** `User.sessions`: each user's page, for the same arguments, in one statement. */
    sessionsPageByUserId: pagesByParent('user'),
    /** `Skill.sessions`: each skill's page of live visible sessions, in one statement. */
    sessionsPageBySkillId: pagesByParent('skill'),
    /** Visible sessions per user matching a filter (`User.sessionCount` is the live filter). */
    sessionCountByUserId: argsLoader<SessionFilter, number>('sessionCountByUserId', (ids, filter) => countsByParent('user', ids, filter)),
    /** Live visible sessions per skill. */
    sessionCountBySkillId: loader<string, number>('sessionCountBySkillId', (ids) => countsByParent('skill', ids, LIVE_SESSIONS)),
  };
}
