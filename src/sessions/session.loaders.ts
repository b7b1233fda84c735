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
    return byPosition(keys.length, rows, (row) => row._nth, ({ _nth, ...session }) => session as SessionModel);
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

  return {
    sessionById,
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
