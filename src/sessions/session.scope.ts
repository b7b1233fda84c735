import { Viewer } from '../auth/viewer';

/** What a member may see, over a SQL expression for the member's id: their own sessions. */
const memberSees = (alias: string, viewerId: string) => `${alias}.user_id = ${viewerId}`;

/**
 * The viewer's scope over sessions as a SQL condition on `alias`: an admin sees every session,
 * a member only their own. Every read and write path on sessions (and, through them, on messages,
 * skill links and node sync rows) includes it in its SQL, so no cache hit can skip it.
 */
export function sessionScope(viewer: Viewer, alias: string): { sql: string; params: Record<string, unknown> } {
  return viewer.isAdmin ? { sql: 'TRUE', params: {} } : { sql: memberSees(alias, ':scopeViewerId'), params: { scopeViewerId: viewer.id } };
}

/**
 * The same scope for a viewer that differs by row: its id in the SQL expression `idColumn`, its
 * role in `adminColumn` (boolean). For statements that read for many viewers at once (a group of
 * appends, a live batch's reads shared by every viewer in it: src/db/viewer-keys.ts).
 */
export function sessionScopeOfRow(alias: string, idColumn: string, adminColumn: string): string {
  return `(${adminColumn} OR ${memberSees(alias, idColumn)})`;
}
