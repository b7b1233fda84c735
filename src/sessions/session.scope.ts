import { Viewer } from '../auth/viewer';

/**
 * The viewer's scope over sessions as a SQL condition on `alias`: an admin sees every session,
 * a member only their own. Every read and write path on sessions (and, through them, on messages,
 * skill links and node sync rows) includes it in its SQL, so no cache hit can skip it.
 */
export function sessionScope(viewer: Viewer, alias: string): { sql: string; params: Record<string, unknown> } {
  return viewer.isAdmin
    ? { sql: 'TRUE', params: {} }
    : { sql: `${alias}.user_id = :scopeViewerId`, params: { scopeViewerId: viewer.id } };
}
